/**
 * One step of the tenant schema's history. Statements use unqualified names: the runner applies them
 * inside a transaction whose `search_path` is the tenant schema, so the same set serves every tenant.
 * Versions are consecutive integers starting at 1 and never change once released.
 */
export interface TenantMigration {
  version: number;
  name: string;
  statements: readonly string[];
}
