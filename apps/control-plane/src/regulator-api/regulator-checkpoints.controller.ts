import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuditStore } from '@townhall/compliance';
import { CoreError } from '@townhall/core';
import { ApiProblem, ApiProblems } from '../problem.view';
import { ApiPageResponse, linkNextPage } from '../shared/page-link';
import { CheckpointPageView, CheckpointView, ConsistencyProofView } from './checkpoint.view';
import { ConsistencyProofQuery, DEFAULT_CHECKPOINT_PAGE, ListCheckpointsQuery } from './regulator-api.dto';
import { REGULATOR_API_PATH, RegulatorApi } from './regulator-api.decorators';

const CHECKPOINTS_PATH = `${REGULATOR_API_PATH}/checkpoints`;

/**
 * The log's signed tree heads. Every regulator sees all of them, whatever its scope: a checkpoint
 * reveals only how many entries the whole log has, and without it nothing can be verified.
 */
@ApiTags('checkpoints')
@RegulatorApi()
@Controller(CHECKPOINTS_PATH)
export class RegulatorCheckpointsController {
  constructor(private readonly store: AuditStore) {}

  @Get()
  @ApiOperation({
    summary: 'List checkpoints, oldest first',
    description:
      'By ascending tree size, those larger than after. To collect what was signed since the checkpoint ' +
      'you kept last, pass its treeSize as after and follow nextAfter (or the Link header with rel="next").',
  })
  @ApiPageResponse(CheckpointPageView)
  @ApiProblems(400)
  async list(
    @Query() query: ListCheckpointsQuery,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<CheckpointPageView> {
    const limit = query.limit ?? DEFAULT_CHECKPOINT_PAGE;
    const rows = await this.store.listCheckpoints({ after: query.after, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const nextAfter = rows.length > limit ? items[items.length - 1].treeSize : null;
    if (nextAfter !== null) {
      linkNextPage(res, CHECKPOINTS_PATH, { after: String(nextAfter), limit: String(limit) });
    }
    return { items, nextAfter };
  }

  @Get('latest')
  @ApiOperation({
    summary: 'The newest checkpoint',
    description:
      'Keep it: passed later to townhall audit verify --since, it proves history was not rewritten.',
  })
  @ApiOkResponse({ type: CheckpointView })
  @ApiProblem(404, 'The log has no checkpoint yet')
  async latest(): Promise<CheckpointView> {
    const newest = await this.store.newestCheckpoint();
    if (!newest) throw new CoreError('not_found', 'The audit log has no checkpoint yet.');
    return newest;
  }

  @Get('consistency')
  @ApiOperation({
    summary: 'Prove a newer checkpoint extends one you kept',
    description:
      'The RFC 9162 consistency proof from tree size from (the checkpoint you kept) to the checkpoint of size ' +
      'to (the newest when left out), with that checkpoint and every key rotation record. Save the body and ' +
      'check it offline: townhall audit verify-consistency PROOF.json --since KEPT.json --key KEYS.json. ' +
      'It shows that history up to from was not rewritten, without downloading any entry; keep the new ' +
      'checkpoint for next time. Not recorded: it discloses nothing but hashes of the whole log.',
  })
  @ApiOkResponse({ type: ConsistencyProofView })
  @ApiProblems(400)
  @ApiProblem(404, 'No checkpoint has tree size to (or the log has none yet)')
  consistency(@Query() query: ConsistencyProofQuery): Promise<ConsistencyProofView> {
    return this.store.consistencyProof({ from: query.from, to: query.to });
  }
}
