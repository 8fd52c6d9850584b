'use strict';
/**
 * An audit signer module (TOWNHALL_AUDIT_SIGNER_MODULE) as an operator writes one for a KMS or an HSM,
 * see docs/operations.md. The "KMS" of the tests is a list of PEM files outside the database, named in
 * TOWNHALL_TEST_AUDIT_SIGNER_KEYS (comma-separated); with TOWNHALL_TEST_AUDIT_SIGNER_CORRUPT=1 every
 * signature comes back with one bit flipped, as from a faulty device.
 */
const { createPrivateKey, createPublicKey, sign } = require('node:crypto');
const { readFileSync } = require('node:fs');

exports.createAuditSigners = async () =>
  (process.env.TOWNHALL_TEST_AUDIT_SIGNER_KEYS ?? '')
    .split(',')
    .filter((path) => path !== '')
    .map((path) => {
      const privateKey = createPrivateKey(readFileSync(path));
      return {
        publicKey: createPublicKey(privateKey),
        sign: async (message) => {
          const signature = sign(null, message, privateKey);
          if (process.env.TOWNHALL_TEST_AUDIT_SIGNER_CORRUPT === '1') signature[0] ^= 1;
          return signature;
        },
      };
    });
