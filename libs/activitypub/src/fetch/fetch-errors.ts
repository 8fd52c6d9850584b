import { defineErrors } from '@townhall/core';

/**
 * Why a remote fetch was refused or failed. 502 for the remote's faults (it answered badly or not in
 * time), 400 for an address the platform will not fetch at all.
 */
const fetchCodes = {
  forbidden_address: { status: 400, title: 'Address not allowed' },
  bad_url: { status: 400, title: 'Not a fetchable URL' },
  dns_failed: { status: 502, title: 'Host name not found' },
  too_many_redirects: { status: 502, title: 'Too many redirects' },
  timed_out: { status: 504, title: 'Remote server too slow' },
  too_large: { status: 502, title: 'Remote document too large' },
  wrong_content_type: { status: 502, title: 'Remote document of the wrong type' },
  bad_document: { status: 502, title: 'Remote document unreadable' },
  http_status: { status: 502, title: 'Remote server refused' },
  network: { status: 502, title: 'Remote server unreachable' },
} as const;

export class FetchError extends defineErrors(fetchCodes) {}
