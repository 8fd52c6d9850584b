import { Command, CommandRunner, Help, Option, SubCommand } from 'nest-commander';
import {
  AUDIT_VERIFY_CONSISTENCY_HELP,
  AUDIT_VERIFY_HELP,
  DEFAULT_VERIFY_THREADS,
} from '@townhall/compliance';
import { auditVerify, auditVerifyConsistency } from '../audit-verify';
import { CliExit, helpText } from '../cli-output';
import { AuditCheckpointCommand } from './audit-checkpoint.command';
import { AuditPeriodKeysCommand } from './audit-period-keys.command';
import { AuditRotateKeyCommand } from './audit-rotate-key.command';
import { AuditSubjectsCommand } from './audit-subjects.command';
import { CommandGroup } from './command-group';

/** What the offline commands trust: `--key`. */
const KEY_OPTION = {
  flags: '--key <file>',
  description: 'a PEM public key, or the JSON of GET /api/platform/v1/audit/keys',
  required: true,
};

/**
 * `townhall audit verify`: checks an audit export offline, with nothing but the bundle and the
 * platform's public key — no configuration, database or network.
 */
@SubCommand({
  name: 'verify',
  arguments: '<bundle>',
  argsDescription: { bundle: 'the NDJSON bundle downloaded from the regulator API' },
  description: 'verify an audit export offline against the platform’s public key(s)',
})
export class AuditVerifyCommand extends CommandRunner {
  @Option(KEY_OPTION)
  key(value: string): string {
    return value;
  }

  @Option({ flags: '--since <file>', description: 'a checkpoint (JSON) you trust from an earlier export' })
  since(value: string): string {
    return value;
  }

  @Option({
    flags: '--witness <key>',
    description:
      'a witness whose cosignature the newest checkpoint must carry (verifier key, or a file of them); repeat for several',
  })
  witness(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option({
    flags: '--witnesses-required <k>',
    description: 'how many of the --witness keys must have cosigned (default: all)',
  })
  witnessesRequired(value: string): string {
    return value;
  }

  @Option({
    flags: '--threads <n>',
    description: `worker threads that parse and hash a large bundle (default ${DEFAULT_VERIFY_THREADS} here)`,
  })
  threads(value: string): string {
    return value;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall audit verify export.ndjson --key audit-keys.json',
        'townhall audit verify export.ndjson --key key.pem --since checkpoint.json',
        'townhall audit verify export.ndjson --key audit-keys.json --witness witness.dpa.example/w1+1c2b3a4d+BH4…',
        'townhall audit verify export.ndjson --key audit-keys.json --witness witnesses.txt --witnesses-required 2',
      ],
      [AUDIT_VERIFY_HELP.split('\n').slice(-1)[0]],
    );
  }

  async run(
    [bundle]: string[],
    options: {
      key: string;
      since?: string;
      threads?: string;
      witness?: string[];
      witnessesRequired?: string;
    },
  ): Promise<void> {
    const argv = [
      bundle,
      '--key',
      options.key,
      ...(options.since !== undefined ? ['--since', options.since] : []),
      ...(options.witness ?? []).flatMap((key) => ['--witness', key]),
      ...(options.witnessesRequired !== undefined ? ['--witnesses-required', options.witnessesRequired] : []),
      ...(options.threads !== undefined ? ['--threads', options.threads] : []),
    ];
    const code = await auditVerify(argv);
    if (code !== 0) throw new CliExit(code);
  }
}

/**
 * `townhall audit verify-consistency`: checks offline that a newer checkpoint extends one kept, from the
 * regulator API's consistency proof — no entries, configuration, database or network.
 */
@SubCommand({
  name: 'verify-consistency',
  arguments: '<proof>',
  argsDescription: { proof: 'the JSON of GET /api/regulator/v1/checkpoints/consistency, saved to a file' },
  description: 'verify offline that a newer checkpoint extends the one you kept',
})
export class AuditVerifyConsistencyCommand extends CommandRunner {
  @Option(KEY_OPTION)
  key(value: string): string {
    return value;
  }

  @Option({ flags: '--since <file>', description: 'the checkpoint (JSON) you kept', required: true })
  since(value: string): string {
    return value;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'curl -s -H "Authorization: Bearer $REGULATOR_TOKEN" "$API/checkpoints/consistency?from=$(jq .treeSize kept.json)" > proof.json',
        'townhall audit verify-consistency proof.json --key audit-keys.json --since kept.json > newest.json',
      ],
      AUDIT_VERIFY_CONSISTENCY_HELP.split('\n').slice(-2),
    );
  }

  async run([proof]: string[], options: { key: string; since: string }): Promise<void> {
    const code = await auditVerifyConsistency([proof, '--key', options.key, '--since', options.since]);
    if (code !== 0) throw new CliExit(code);
  }
}

@Command({
  name: 'audit',
  description:
    'work with the tamper-evident audit log (offline verification, checkpoints, key rotation, erasure, period keys)',
  subCommands: [
    AuditVerifyCommand,
    AuditVerifyConsistencyCommand,
    AuditCheckpointCommand,
    AuditRotateKeyCommand,
    AuditSubjectsCommand,
    AuditPeriodKeysCommand,
  ],
})
export class AuditCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall audit verify export.ndjson --key audit-keys.json',
      'townhall audit verify-consistency proof.json --key audit-keys.json --since kept.json',
      'townhall audit checkpoint --json > checkpoint.json',
      'townhall audit rotate-key',
      'townhall audit subjects find email:press@bmi.example',
      'townhall audit period-keys list',
    ]);
  }
}
