import { Command, CommandRunner, Help, Option } from 'nest-commander';
import {
  DEFAULT_WITNESS_DIR,
  DEFAULT_WITNESS_LISTEN,
  WITNESS_EXAMPLES,
  WITNESS_HELP,
} from '@townhall/compliance/witness';
import { CliExit, helpText } from '../cli-output';
import { witness } from '../witness';

interface Options {
  log?: string[];
  name?: string;
  dataDir?: string;
  listen?: string;
  printKey?: boolean;
}

/**
 * `townhall witness`: the witness a regulator runs on its own machine. bin/townhall.js starts it
 * without this framework (witness-main.ts); this class gives it its place in `townhall --help` and its
 * own `--help`.
 */
@Command({
  name: 'witness',
  description:
    'run a transparency-log witness that cosigns consistent audit checkpoints (no database needed)',
})
export class WitnessCommand extends CommandRunner {
  @Option({
    flags: '--log <key>',
    description: 'a log to witness: its note verifier key, or a file of them; repeat for several',
  })
  log(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option({ flags: '--name <name>', description: 'the witness’s name; needed on the first start only' })
  name(value: string): string {
    return value;
  }

  @Option({ flags: '--data-dir <dir>', description: `its key and state (default ${DEFAULT_WITNESS_DIR})` })
  dataDir(value: string): string {
    return value;
  }

  @Option({
    flags: '--listen <host:port>',
    description: `where to serve HTTP (default ${DEFAULT_WITNESS_LISTEN})`,
  })
  listen(value: string): string {
    return value;
  }

  @Option({ flags: '--print-key', description: 'print the witness’s verifier key and exit' })
  printKey(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    const prose = WITNESS_HELP.split('\n\n');
    return helpText(WITNESS_EXAMPLES, [...prose[1].split('\n'), '', ...prose[prose.length - 1].split('\n')]);
  }

  async run(_params: string[], options: Options): Promise<void> {
    const argv = [
      ...(options.log ?? []).flatMap((key) => ['--log', key]),
      ...(options.name !== undefined ? ['--name', options.name] : []),
      ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : []),
      ...(options.listen !== undefined ? ['--listen', options.listen] : []),
      ...(options.printKey ? ['--print-key'] : []),
    ];
    const code = await witness(argv);
    if (code !== 0) throw new CliExit(code);
  }
}
