import { defineErrors } from '@townhall/core';

export class ObservabilityError extends defineErrors({
  not_ready: { status: 503, title: 'Not ready' },
}) {}
