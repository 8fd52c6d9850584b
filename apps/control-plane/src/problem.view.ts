import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';

/** The OpenAPI shape of the RFC 9457 problem details that `ProblemDetailsFilter` writes for every error. */
export class ProblemView {
  @ApiProperty({ example: 'https://townhall.dev/problems/slug-taken' }) type: string;
  @ApiProperty({ example: 'Slug already in use' }) title: string;
  @ApiProperty({ example: 409 }) status: number;
  @ApiPropertyOptional({ example: 'The slug "bmi" is already in use.' }) detail?: string;
  @ApiPropertyOptional({ example: '/api/platform/v1/tenants' }) instance?: string;
  @ApiPropertyOptional({ description: 'Machine-readable error code', example: 'slug_taken' }) code?: string;
  @ApiPropertyOptional({
    description: 'Also sent as the X-Request-Id header; quote it when reporting a problem',
  })
  requestId?: string;
  @ApiPropertyOptional({
    type: [String],
    description: 'One entry per invalid field (validation errors only)',
  })
  errors?: string[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; nothing was changed',
  401: 'Missing or invalid operator token',
  404: 'No such tenant',
  409: 'Conflicts with the current state (taken slug or domain, or a transition the tenant’s status does not allow)',
  429: 'Too many requests; retry after the number of seconds in Retry-After',
};

/** Documents the problem-details responses an endpoint can return, as `application/problem+json`. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiProblem(status, DESCRIPTIONS[status] ?? 'Error')));
}

/**
 * One problem-details response with a description of its own, for the statuses whose wording in
 * `ApiProblems` is about tenants or operators (404 "No such tenant", 401 "operator token").
 */
export function ApiProblem(status: number, description: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemView),
    ApiResponse({
      status,
      description,
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemView) } } },
      ...(status === 429
        ? {
            headers: {
              'Retry-After': {
                description: 'Seconds until a request is accepted again',
                schema: { type: 'integer' },
              },
            },
          }
        : {}),
      ...(status === 401
        ? {
            headers: {
              'WWW-Authenticate': { description: 'Bearer challenge (RFC 6750)', schema: { type: 'string' } },
            },
          }
        : {}),
    }),
  );
}
