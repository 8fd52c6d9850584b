import { Help, Option, SubCommand } from 'nest-commander';
import { RotateAuditKey } from '@townhall/compliance';
import { helpText, notice, printFields, printJson } from '../cli-output';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'rotate-key',
  description: 'replace the audit log’s signing key; the old key signs a record that vouches for the new one',
})
export class AuditRotateKeyCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the new key and the rotation record as JSON' })
  json(): boolean {
    return true;
  }

  @Option({
    flags: '--key-id <id>',
    description:
      'with a signer module (TOWNHALL_AUDIT_SIGNER_MODULE), which of its keys becomes current (needed when it offers several new ones)',
  })
  keyId(value: string): string {
    return value;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall audit rotate-key',
        'townhall audit rotate-key --json | jq .key',
        'TOWNHALL_AUDIT_SIGNER_MODULE=/etc/townhall/kms-signer.js townhall audit rotate-key --key-id 5c1f0e2d9a8b7c6d',
      ],
      [
        'Checkpoints from now on are signed with the new key, and the old key’s private half is deleted. Exports',
        'carry the rotation record, so a regulator who holds only the old key can verify them; publish the',
        'new key list (GET /api/platform/v1/audit/keys) to everyone who verifies.',
      ],
    );
  }

  async run(_params: string[], options: { json?: boolean; keyId?: string } = {}): Promise<void> {
    const { key, rotation } = await this.runtime.act((context) =>
      context.get(RotateAuditKey).run(options.keyId ?? null),
    );
    if (options.json) {
      printJson({ key, rotation });
      return;
    }
    printFields([
      ['key id', key.keyId],
      ['valid from', key.validFrom],
      ['previous key id', rotation?.previousKeyId ?? '(none: this is the log’s first key)'],
    ]);
    notice('The new key signs every checkpoint from now on; publish the updated key list to verifiers.');
  }
}
