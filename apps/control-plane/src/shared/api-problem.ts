import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemView } from '../problem.view';

/**
 * A problem-details response with a description of its own, for the statuses whose wording in
 * `ApiProblems` is about tenants or operators (404 "No such tenant", 401 "operator token").
 */
export function ApiProblem(status: number, description: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemView),
    ApiResponse({
      status,
      description,
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemView) } } },
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
