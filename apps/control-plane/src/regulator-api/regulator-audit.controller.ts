import type { OutgoingHttpHeaders } from 'node:http';
import { Controller, Get, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RegulatorRequest } from '@townhall/auth';
import { AuditStore } from '@townhall/compliance';
import { AuditKeysView } from '../audit-keys.view';
import { ApiProblem, ApiProblems } from '../problem.view';
import { bundleAsCsv, streamTo } from './audit-export-stream';
import { ExportAuditQuery } from './regulator-api.dto';
import { REGULATOR_API_PATH, RegulatorApi } from './regulator-api.decorators';
import { RegulatorAuditExports } from './regulator-audit-exports';

const CONTENT_TYPES = { ndjson: 'application/x-ndjson', csv: 'text/csv; charset=utf-8; header=present' };

/** The audit log for regulators: the keys to check it with, and verifiable exports. */
@ApiTags('audit')
@RegulatorApi()
@Controller(`${REGULATOR_API_PATH}/audit`)
export class RegulatorAuditController {
  private readonly logger = new Logger(RegulatorAuditController.name);

  constructor(
    private readonly store: AuditStore,
    private readonly exports: RegulatorAuditExports,
  ) {}

  @Get('keys')
  @ApiOperation({
    summary: 'The audit log’s signing keys',
    description:
      'The same body as GET /api/platform/v1/audit/keys. Save it as a file for townhall audit verify --key.',
  })
  @ApiOkResponse({ type: AuditKeysView })
  async keys(): Promise<AuditKeysView> {
    return { keys: await this.store.keys() };
  }

  @Get('export')
  @ApiOperation({
    summary: 'Export the audit log',
    description:
      'Streams the entries [from, to) that match the filters, as an NDJSON bundle with the checkpoints and ' +
      'proofs that cover them (docs/audit-format.md): verify it offline with townhall audit verify. ' +
      'format=csv gives the matching entries only, for reading — it carries no proofs and is not evidence. ' +
      'A regulator scoped to tenants must name one of them as tenant; any other tenant is refused with 403, ' +
      'and the refusal is recorded — the scope is checked before anything else about the request. Every ' +
      'export is recorded (audit.export) before it starts, and appears in later exports; a tenant id no ' +
      'tenant has is recorded as the target only. Malformed parameters are refused with 400 and not recorded.',
  })
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiOkResponse({
    description: 'The bundle (or CSV), streamed',
    content: {
      [CONTENT_TYPES.ndjson]: { schema: { type: 'string' } },
      [CONTENT_TYPES.csv]: { schema: { type: 'string' } },
    },
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename="townhall-audit-<tenant|platform>-<from>-<to>.<ndjson|csv>"',
        schema: { type: 'string' },
      },
    },
  })
  @ApiProblems(400)
  @ApiProblem(403, 'The tenant is outside the regulator’s scope (the refusal is recorded)')
  async export(
    @Query() query: ExportAuditQuery,
    @Req() req: RegulatorRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const format = query.format ?? 'ndjson';
    const opened = await this.exports.open(req.user!, {
      tenant: query.tenant ?? null,
      from: query.from ?? null,
      to: query.to ?? null,
      actions: query.actions ? [...new Set(query.actions)] : null,
      since: query.since ?? null,
      format,
    });
    const name = `townhall-audit-${query.tenant ?? 'platform'}-${opened.range.from}-${opened.range.to}.${format}`;
    // Written to the socket directly, with backpressure (see audit-export-stream.ts): the reply is
    // hijacked, so the headers set on it so far (request id, security headers) are sent by hand.
    res.hijack();
    res.raw.writeHead(200, {
      ...(res.getHeaders() as OutgoingHttpHeaders),
      'content-type': CONTENT_TYPES[format],
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    });
    const complete = await streamTo(format === 'csv' ? bundleAsCsv(opened.lines) : opened.lines, res.raw);
    if (!complete) {
      this.logger.log({ regulator: req.user!.id, range: opened.range }, 'Audit export ended by the client');
    }
  }
}
