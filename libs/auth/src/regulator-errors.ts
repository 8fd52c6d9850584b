import { defineErrors } from '@townhall/core';

/** Errors of managing regulators and of what a regulator may read. */
export class RegulatorError extends defineErrors({
  invalid_regulator: { status: 400, title: 'Invalid regulator' },
  unknown_tenants: { status: 400, title: 'Unknown tenants' },
  regulator_not_found: { status: 404, title: 'Regulator not found' },
  tenant_out_of_scope: { status: 403, title: 'Tenant outside the regulator’s scope' },
}) {}
