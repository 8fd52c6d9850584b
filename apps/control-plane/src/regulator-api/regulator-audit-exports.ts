import { Injectable } from '@nestjs/common';
import { Regulator, RegulatorError } from '@townhall/auth';
import {
  AuditOutcome,
  AuditRecorder,
  AuditStore,
  ComplianceError,
  type JsonValue,
} from '@townhall/compliance';
import { TenantRegistry } from '@townhall/tenancy';
import type { ExportFormat } from './regulator-api.dto';

/** A regulator's export request as the API received it (validated: `tenant` is an id or null). */
export interface RegulatorExportQuery {
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
 * - The scope is checked first: a tenant outside the regulator's scope (or, for a regulator scoped to
 *   tenants, no tenant at all) is refused with 403 whatever else the request asks, and the refusal is
 *   recorded (`audit.export`, outcome `denied`) in a transaction of its own.
 * - A request the log cannot serve (a range or `since` beyond the newest checkpoint, `from` > `to`) is
 *   then refused with 400 and not recorded, like every malformed request: it read nothing.
 * - An export is recorded (`audit.export`, `success`, the filters and the range in details) and
 *   committed before its first byte is sent, so no data leaves without its entry. The entry itself lies
 *   beyond the exported range; the next export shows it.
 * - The entry belongs to the tenant asked for (its `tenant`, so the tenant's own view shows who exported
 *   it) only if that tenant is registered. An id the registry does not know is kept as the target, with
 *   `tenant: null`: a caller must not be able to start a per-tenant sequence for a tenant that does
 *   not exist.
 */
@Injectable()
export class RegulatorAuditExports {
  constructor(
    private readonly store: AuditStore,
    private readonly recorder: AuditRecorder,
    private readonly tenants: TenantRegistry,
  ) {}

  async open(regulator: Regulator, request: RegulatorExportQuery): Promise<OpenedAuditExport> {
    if (!regulator.mayRead(request.tenant)) {
      await this.record(request, 'denied', {});
      throw new RegulatorError(
        'tenant_out_of_scope',
        request.tenant === null
          ? 'This regulator may export only the tenants in its scope: name one with ?tenant=.'
          : 'This tenant is not in the regulator’s scope.',
      );
    }
    if (request.from !== null && request.to !== null && request.from > request.to) {
      throw new ComplianceError('invalid_bundle_request', 'from must not be greater than to.');
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
    request: RegulatorExportQuery,
    outcome: AuditOutcome,
    extra: { [member: string]: JsonValue },
  ): Promise<void> {
    await this.recorder.recordAlone({
      action: 'audit.export',
      target:
        request.tenant === null
          ? { type: 'platform', id: 'platform' }
          : { type: 'tenant', id: request.tenant },
      tenant: await this.registeredTenant(request.tenant),
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
    });
  }

  /** `tenant` if the registry knows it (a deleted tenant keeps its row), else null. */
  private async registeredTenant(tenant: string | null): Promise<string | null> {
    if (tenant === null) return null;
    return (await this.tenants.findById(tenant)) ? tenant : null;
  }
}

/**
 * `first`, then the rest of `rest`. Not a generator: ending a generator that never started skips its
 * `finally`, and `rest` — the store's export, which reads the next batch only when asked — must be
 * ended even if nobody reads a line.
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
