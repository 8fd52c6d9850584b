import { TenantContext } from '@townhall/tenancy';

/**
 * A value counted per tenant and kept in this process for `maxAgeMs` (counts that scan a tenant's tables
 * and are asked for often): concurrent requests share one count, a failed count is not kept, and at most
 * 10,000 tenants are remembered.
 */
export class PerTenantCache<T> {
  private readonly kept = new Map<string, { value: Promise<T>; at: number }>();

  constructor(
    private readonly maxAgeMs: () => number,
    private readonly count: () => Promise<T>,
  ) {}

  /** The current tenant's value, at most `maxAgeMs` old. */
  current(): Promise<T> {
    const tenant = TenantContext.current();
    const now = Date.now();
    const known = this.kept.get(tenant.id);
    if (known && now - known.at < this.maxAgeMs()) return known.value;
    const value = this.count();
    this.kept.set(tenant.id, { value, at: now });
    value.catch(() => this.kept.delete(tenant.id));
    if (this.kept.size > 10_000) this.kept.delete(this.kept.keys().next().value!);
    return value;
  }
}
