import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  CreateRegulatorCommand,
  describeRegulator,
  OperatorAuthGuard,
  type OperatorRequest,
  Regulator,
  RegulatorError,
  RegulatorTokens,
} from '@townhall/auth';
import { OperatorActionInterceptor } from '../operator-action.interceptor';
import { OperatorRateLimitGuard } from '../operator-rate-limit';
import { ApiProblem, ApiProblems } from '../problem.view';
import { DEFAULT_PAGE_SIZE } from '../tenants/tenant.dto';
import { CreateRegulatorDto, ListRegulatorsQuery } from './regulator.dto';
import { ApiPageResponse, linkNextPage } from '../shared/page-link';
import {
  IssuedRegulatorView,
  RegulatorPageView,
  regulatorPath,
  REGULATORS_PATH,
  RegulatorView,
} from './regulator.view';

const REGULATOR_ID = ApiParam({ name: 'id', description: 'Regulator id', example: '7380412938240000101' });
const NOT_FOUND = ApiProblem(404, 'No such regulator');

/**
 * The operator API over regulators: issue a regulator token, list, look at and revoke them. Rate limit
 * first, then the operator token; issuing and revoking are recorded in the audit log.
 */
@ApiTags('regulators')
@ApiBearerAuth()
@ApiProblems(401, 429)
@UseGuards(OperatorRateLimitGuard, OperatorAuthGuard)
@UseInterceptors(OperatorActionInterceptor)
@Controller(REGULATORS_PATH)
export class RegulatorsController {
  constructor(private readonly regulators: RegulatorTokens) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Issue a regulator token',
    description:
      'Creates a regulator scoped to some tenants (tenantIds) or to the whole platform (all: true), with a ' +
      'mandatory expiry. The response carries the token for /api/regulator/v1 — the only time it is shown.',
  })
  @ApiCreatedResponse({
    type: IssuedRegulatorView,
    headers: { Location: { description: 'The new regulator', schema: { type: 'string' } } },
  })
  @ApiProblems(400)
  async create(
    @Body() body: CreateRegulatorDto,
    @Req() req: OperatorRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<IssuedRegulatorView> {
    const { regulator, token } = await this.regulators.create(
      new CreateRegulatorCommand(body),
      req.user?.id ?? null,
    );
    res.header('Location', regulatorPath(regulator.id));
    // The token is a credential: no cache between here and the operator may keep the response.
    res.header('Cache-Control', 'no-store');
    return { ...describeRegulator(regulator), token };
  }

  @Get()
  @ApiOperation({
    summary: 'List regulators, newest first',
    description:
      'Keyset pagination: follow nextCursor, or the Link header with rel="next". Tokens are never shown.',
  })
  @ApiPageResponse(RegulatorPageView)
  @ApiProblems(400)
  async list(
    @Query() query: ListRegulatorsQuery,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<RegulatorPageView> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = await this.regulators.list({ limit, cursor: query.cursor });
    if (page.nextCursor !== null) {
      linkNextPage(res, REGULATORS_PATH, { limit: String(limit), cursor: page.nextCursor });
    }
    return { items: page.items.map(describeRegulator), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @REGULATOR_ID
  @ApiOperation({ summary: 'Get a regulator' })
  @ApiOkResponse({ type: RegulatorView })
  @NOT_FOUND
  async get(@Param('id') id: string): Promise<RegulatorView> {
    return describeRegulator(found(await this.regulators.findById(id)));
  }

  @Delete(':id')
  @HttpCode(200)
  @REGULATOR_ID
  @ApiOperation({
    summary: 'Revoke a regulator’s token',
    description:
      'The token stops working with the next request. Revoking again keeps the first revocation time.',
  })
  @ApiOkResponse({ type: RegulatorView })
  @NOT_FOUND
  async revoke(@Param('id') id: string): Promise<RegulatorView> {
    return describeRegulator(await this.regulators.revoke(id));
  }
}

function found(regulator: Regulator | null): Regulator {
  if (!regulator) throw new RegulatorError('regulator_not_found', 'No regulator with this id.');
  return regulator;
}
