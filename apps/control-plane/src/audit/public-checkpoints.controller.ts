import { applyDecorators, Controller, Get, Header, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CheckpointNotes } from '@townhall/compliance';
import { CoreError, parseStrictInteger, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { OperatorRateLimitGuard } from '../operator-rate-limit';
import { ApiProblem, ApiProblems } from '../problem.view';

export const PUBLIC_AUDIT_PATH = '/api/platform/v1/audit';

const NOTE_EXAMPLE = [
  'social.gov.example/audit',
  '1000',
  'JoSjrzjNGP0lg2ZGKqRFEA8L+qV+0QZY13TF6ryI/Z8=',
  'time 2025-01-15T10:05:00.000Z',
  '',
  '— social.gov.example/audit AcQG8nxinGil6xNwU/DAx/WnKoSbMqPuz/QTmu7/8ju3QhgbEKzbB60MGTxjKRvvcSTEdhlMeEK2BxUnhZZHYVzVaAQ=',
  '— witness.dpa.example/w1 HnK3CAAAAABnh4xMq1…',
  '',
].join('\n');

const SignedNote = (description: string) =>
  applyDecorators(
    Header('Content-Type', 'text/plain; charset=utf-8'),
    Header('Cache-Control', 'no-cache'),
    ApiProduces('text/plain'),
    ApiOkResponse({ description, schema: { type: 'string', example: NOTE_EXAMPLE } }),
  );

/**
 * The log's checkpoints, public: anyone — a regulator, a journalist, a court, a witness operator — can
 * fetch what the platform signed and compare it with what they were shown. A platform that showed two
 * parties two different logs (a split view) would have to publish both here or be caught comparing.
 * Checkpoints come as C2SP signed notes with the witnesses' cosignatures, the form tlog tools read.
 * No token, like the public keys; rate limited like the operator API.
 */
@ApiTags('audit')
@ApiProblems(429)
@UseGuards(OperatorRateLimitGuard)
@Controller(PUBLIC_AUDIT_PATH)
export class PublicCheckpointsController {
  constructor(
    private readonly notes: CheckpointNotes,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  @Get('checkpoints/latest')
  @ApiOperation({
    summary: 'The newest checkpoint, as a signed note with its cosignatures (public)',
    description:
      'The C2SP checkpoint text (origin, tree size, root hash, time), a blank line, the log’s signature ' +
      'and one line per witness that cosigned it. Compare it with the newest checkpoint of an export.',
  })
  @SignedNote('The newest checkpoint')
  @ApiProblem(404, 'The log has no checkpoint yet')
  async latest(): Promise<string> {
    const note = await this.notes.latest();
    if (note === null) throw new CoreError('not_found', 'The audit log has no checkpoint yet.');
    return note;
  }

  @Get('checkpoints/:treeSize')
  @ApiOperation({
    summary: 'The checkpoint of one tree size, as a signed note with its cosignatures (public)',
    description: 'Every checkpoint the log signed stays here: sizes are listed by the regulator API.',
  })
  @ApiParam({ name: 'treeSize', description: 'The checkpoint’s tree size', example: '1000' })
  @SignedNote('The checkpoint of that tree size')
  @ApiProblems(400)
  @ApiProblem(404, 'No checkpoint of that tree size')
  async ofSize(@Param('treeSize') treeSize: string): Promise<string> {
    const size = parseStrictInteger(treeSize);
    if (size === undefined)
      throw new CoreError('bad_request', 'treeSize must be a whole number in decimal digits.');
    const note = await this.notes.ofSize(size);
    if (note === null)
      throw new CoreError('not_found', `The audit log has no checkpoint of tree size ${size}.`);
    return note;
  }

  @Get('verifier-keys')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({
    summary: 'The log’s note verifier keys, one a line (public)',
    description:
      'Each audit signing key, current and retired, as a C2SP signed-note verifier key ' +
      '(origin+keyID+key): what a witness is configured with (townhall witness --log KEY).',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    schema: {
      type: 'string',
      example: 'social.gov.example/audit+01c406f2+AWufmWDwvDRSuLBle7jDKC6LUwEQyhEwxtNGaHRubDqo\n',
    },
  })
  async verifierKeys(): Promise<string> {
    const keys = await this.notes.verifierKeys(this.config.audit.origin);
    return keys.map((key) => `${key}\n`).join('');
  }
}
