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

  @Help('after')
  examples(): string {
    return helpText(
      ['townhall audit rotate-key', 'townhall audit rotate-key --json | jq .key'],
      [
        'Checkpoints from now on are signed with the new key. Exports carry the rotation record, so a',
        'regulator who trusts the old key can verify them; publish the new key list',
        '(GET /api/platform/v1/audit/keys) to everyone who verifies.',
      ],
    );
  }

  async run(_params: string[], options: { json?: boolean } = {}): Promise<void> {
    const { key, rotation } = await this.runtime.act((context) => context.get(RotateAuditKey).run());
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
