/**
 * The one error shape of Townhall. Each library declares its own subclass with a code map, so a code
 * always maps to the same HTTP status and title; the global filter turns any of them into RFC 9457
 * problem details. Messages here are safe to show to callers: never put SQL, stack traces or secrets
 * into `detail`.
 */
export interface ErrorSpec {
  status: number;
  title: string;
}

export abstract class TownhallError extends Error {
  abstract readonly spec: ErrorSpec;

  constructor(
    readonly code: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? code);
    this.name = new.target.name;
  }

  get status(): number {
    return this.spec.status;
  }
}

/** Builds a typed error class from a code map: `class TenancyError extends defineErrors({...})`. */
export function defineErrors<C extends string>(codes: Record<C, ErrorSpec>) {
  return class extends TownhallError {
    declare readonly code: C;
    constructor(code: C, detail?: string, extensions: Record<string, unknown> = {}) {
      super(code, detail, extensions);
    }
    get spec(): ErrorSpec {
      return codes[this.code];
    }
  };
}

const coreCodes = {
  bad_request: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  unavailable: { status: 503, title: 'Service unavailable' },
} satisfies Record<string, ErrorSpec>;

export class CoreError extends defineErrors(coreCodes) {}
