/** Host names are a core concern (configuration reserves some); tenancy resolves requests by them. */
export { canonicalHost } from '@townhall/core';
