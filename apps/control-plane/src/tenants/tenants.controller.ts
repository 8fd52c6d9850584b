import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Inject,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OperatorAuthGuard } from '@townhall/auth';
import {
  DeleteTenantCommand,
  ProvisioningError,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { mediaUsage } from '@townhall/social';
import { runInTenantSchema, TenantEntity, TenantRegistry, tenantRef } from '@townhall/tenancy';
import { OperatorActionInterceptor } from '../operator-action.interceptor';
import { OperatorRateLimitGuard } from '../operator-rate-limit';
import { ApiProblems } from '../problem.view';
import { ApiPageResponse, linkNextPage } from '../shared/page-link';
import {
  CreateTenantDto,
  DEFAULT_PAGE_SIZE,
  DeleteTenantQuery,
  ListTenantsQuery,
  PURGE_IMMEDIATELY,
  SetMediaQuotaDto,
  SuspendTenantDto,
} from './tenant.dto';
import {
  MediaUsageView,
  TenantPageView,
  tenantPath,
  TENANTS_PATH,
  TenantView,
  toTenantView,
} from './tenant.view';

const TENANT_ID = ApiParam({ name: 'id', description: 'Tenant id', example: '7380412938240000001' });

/** The operator API over tenants. Every route: rate limit first (so token guessing is limited), then the operator token. */
@ApiTags('tenants')
@ApiBearerAuth()
@ApiProblems(401, 429)
@UseGuards(OperatorRateLimitGuard, OperatorAuthGuard)
@UseInterceptors(OperatorActionInterceptor)
@Controller(TENANTS_PATH)
export class TenantsController {
  constructor(
    private readonly lifecycle: TenantLifecycle,
    private readonly registry: TenantRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Provision a tenant',
    description:
      'Registers the tenant and queues its provisioning; poll the Location until status is active.',
  })
  @ApiAcceptedResponse({
    type: TenantView,
    headers: { Location: { description: 'The new tenant', schema: { type: 'string' } } },
  })
  @ApiProblems(400, 409)
  async provision(
    @Body() body: CreateTenantDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<TenantView> {
    const tenant = await this.lifecycle.provision(new ProvisionTenantCommand(body));
    res.header('Location', tenantPath(tenant.id));
    return toTenantView(tenant);
  }

  @Get()
  @ApiOperation({
    summary: 'List tenants, newest first',
    description: 'Keyset pagination: follow nextCursor, or the Link header with rel="next".',
  })
  @ApiPageResponse(TenantPageView)
  @ApiProblems(400)
  async list(
    @Query() query: ListTenantsQuery,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<TenantPageView> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = await this.registry.list({ limit, cursor: query.cursor, status: query.status });
    if (page.nextCursor !== null) {
      linkNextPage(res, TENANTS_PATH, {
        limit: String(limit),
        cursor: page.nextCursor,
        ...(query.status ? { status: query.status } : {}),
      });
    }
    return { items: page.items.map(toTenantView), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @TENANT_ID
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiOkResponse({ type: TenantView })
  @ApiProblems(404)
  async get(@Param('id') id: string): Promise<TenantView> {
    return toTenantView(found(await this.registry.findById(id)));
  }

  @Put(':id/media-quota')
  @TENANT_ID
  @ApiOperation({
    summary: "Set a tenant's media storage quota",
    description: "Bytes of media the tenant may store (0: no limit), or null for the platform's setting.",
  })
  @ApiOkResponse({ type: TenantView })
  @ApiProblems(400, 404, 409)
  async setMediaQuota(@Param('id') id: string, @Body() body: SetMediaQuotaDto): Promise<TenantView> {
    return toTenantView(await this.lifecycle.setMediaQuota(id, body.bytes));
  }

  @Get(':id/media-usage')
  @TENANT_ID
  @ApiOperation({ summary: "What a tenant's media take up, against its quota" })
  @ApiOkResponse({ type: MediaUsageView })
  @ApiProblems(404, 409)
  async mediaUsage(@Param('id') id: string): Promise<MediaUsageView> {
    const tenant = found(await this.registry.findById(id));
    if (!['active', 'suspended'].includes(tenant.status)) {
      throw new ProvisioningError(
        'invalid_transition',
        `The tenant is ${tenant.status}; it has no media to count.`,
        {
          tenantStatus: tenant.status,
        },
      );
    }
    const own = tenant.mediaQuotaBytes === null ? null : Number(tenant.mediaQuotaBytes);
    const usage = await runInTenantSchema(
      this.dataSource,
      tenantRef(tenant, toTenantView(tenant).domain ?? ''),
      (m) => mediaUsage(m),
    );
    return {
      usedBytes: usage.bytes,
      attachments: usage.attachments,
      quotaBytes: own ?? this.config.media.quotaBytes,
      quotaSource: own === null ? 'platform' : 'tenant',
    };
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @TENANT_ID
  @ApiOperation({
    summary: 'Suspend an active tenant',
    description: 'Its instance answers 503 until it is resumed.',
  })
  @ApiOkResponse({ type: TenantView })
  @ApiProblems(400, 404, 409)
  async suspend(@Param('id') id: string, @Body() body: SuspendTenantDto): Promise<TenantView> {
    return toTenantView(await this.lifecycle.suspend(id, body.reason));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @TENANT_ID
  @ApiOperation({ summary: 'Resume a suspended tenant, or cancel a pending deletion' })
  @ApiOkResponse({ type: TenantView })
  @ApiProblems(404, 409)
  async resume(@Param('id') id: string): Promise<TenantView> {
    return toTenantView(await this.lifecycle.resume(id));
  }

  @Post(':id/retry')
  @HttpCode(200)
  @TENANT_ID
  @ApiOperation({
    summary: 'Retry provisioning a failed tenant',
    description: 'Resumes after the last completed step.',
  })
  @ApiOkResponse({ type: TenantView })
  @ApiProblems(404, 409)
  async retry(@Param('id') id: string): Promise<TenantView> {
    return toTenantView(await this.lifecycle.retry(id));
  }

  @Delete(':id')
  @HttpCode(202)
  @TENANT_ID
  @ApiOperation({
    summary: 'Delete a tenant',
    description:
      'Marks the tenant deleting; its schema is dropped once graceSeconds have passed (default 7 days, at least ' +
      'one hour). Until then resume cancels the deletion. purge=immediately drops it at once instead.',
  })
  @ApiAcceptedResponse({ type: TenantView })
  @ApiProblems(400, 404, 409)
  async delete(@Param('id') id: string, @Query() query: DeleteTenantQuery): Promise<TenantView> {
    const command = new DeleteTenantCommand({
      graceSeconds: query.graceSeconds,
      purgeImmediately: query.purge === PURGE_IMMEDIATELY,
    });
    return toTenantView(await this.lifecycle.delete(id, command));
  }
}

function found(tenant: TenantEntity | null): TenantEntity {
  if (!tenant) throw new ProvisioningError('tenant_not_found', 'No tenant with this id.');
  return tenant;
}
