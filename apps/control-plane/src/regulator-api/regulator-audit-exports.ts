import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Regulator, RegulatorError } from '@townhall/auth';
import {
  AuditOutcome,
  AuditRecorder,
  AuditStore,
  ComplianceError,
  type JsonValue,
} from '@townhall/compliance';
import type { ExportFormat } from './regulator-api.dto';

export interface AuditExportRequest {
  tenant: string | null;
  from: number | null;
  to: number | null;
  actions: string[] | null;
  since: number | null;
  format: ExportFormat;
}

export interface OpenedAuditExport {
  /** The range the bundle covers (the header's): `to` defaults to the newest checkpoint's tree size. */
  range: { from: number; to: number };
  /** The bundle's lines, header first; ending the iteration early releases the database. */
  lines: AsyncIterableIterator<string>;
}

/**
 * A regulator's export of the audit log: the scope check, the record of the export, then the bundle.
 *
 * - A tenant outside the regulator's scope (or, for a regulator scoped to tenants, no tenant at all) is
 *   refused with 403, and the refusal is recorded (`audit.export`, outcome `denied`) in a transaction of
 *   its own.
 * - A request the log cannot serve (a range or `since` beyond the newest checkpoint, `from` > `to`) is
 *   refused with 400 and not recorded, like every malformed request: it read nothing.
 * - An export is recorded (`audit.export`, `success`, the filters and the range in details) and
 *   committed before its first byte is sent, so no data leaves without its entry. The entry itself lies
 *   beyond the exported range; the next export shows it.
 */
@Injectable()
export class RegulatorAuditExports {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: AuditStore,
    private readonly recorder: AuditRecorder,
  ) {}

  async open(regulator: Regulator, request: AuditExportRequest): Promise<OpenedAuditExport> {
    if (request.from !== null && request.to !== null && request.from > request.to) {
      throw new ComplianceError('invalid_bundle_request', 'from must not be greater than to.');
    }
    if (!regulator.mayRead(request.tenant)) {
      await this.record(request, 'denied', {});
      throw new RegulatorError(
        'tenant_out_of_scope',
        request.tenant === null
          ? 'This regulator may export only the tenants in its scope: name one with ?tenant=.'
          : 'This tenant is not in the regulator’s scope.',
      );
    }
    const lines = this.store
      .exportBundle({
        tenant: request.tenant,
        actions: request.actions,
        since: request.since,
        ...(request.from !== null ? { from: request.from } : {}),
        ...(request.to !== null ? { to: request.to } : {}),
      })
      [Symbol.asyncIterator]();
    // The header comes first; a request the log cannot cover fails here, before anything is recorded.
    const header = await lines.next();
    if (header.done) throw new Error('The audit store produced an empty bundle.');
    const range = (JSON.parse(header.value) as { range: { from: number; to: number } }).range;
    try {
      await this.record(request, 'success', { range: { from: range.from, to: range.to } });
    } catch (err) {
      await lines.return?.();
      throw err;
    }
    return { range, lines: startingWith(header.value, lines) };
  }

  private async record(
    request: AuditExportRequest,
    outcome: AuditOutcome,
    extra: { [member: string]: JsonValue },
  ): Promise<void> {
    await this.dataSource.transaction((manager) =>
      this.recorder.record(manager, {
        action: 'audit.export',
        target:
          request.tenant === null
            ? { type: 'platform', id: 'platform' }
            : { type: 'tenant', id: request.tenant },
        tenant: request.tenant,
        outcome,
        details: {
          format: request.format,
          filters: {
            tenant: request.tenant,
            actions: request.actions,
            from: request.from,
            to: request.to,
            since: request.since,
          },
          ...extra,
        },
      }),
    );
  }
}

/**
 * `first`, then the rest of `rest`. Not a generator: ending a generator that never started skips its
 * `finally`, and `rest` — holding a database cursor — must be ended even if nobody reads a line.
 */
function startingWith(first: string, rest: AsyncIterator<string>): AsyncIterableIterator<string> {
  let firstSent = false;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (firstSent) return rest.next();
      firstSent = true;
      return Promise.resolve({ done: false, value: first });
    },
    async return() {
      await rest.return?.();
      return { done: true, value: undefined };
    },
  };
}
