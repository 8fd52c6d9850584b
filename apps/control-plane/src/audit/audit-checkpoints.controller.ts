import { Controller, HttpCode, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OperatorAuthGuard } from '@townhall/auth';
import { CheckpointAuditLog } from '@townhall/compliance';
import { OperatorActionInterceptor } from '../operator-action.interceptor';
import { OperatorRateLimitGuard } from '../operator-rate-limit';
import { ApiProblems } from '../problem.view';
import { CheckpointView } from '../regulator-api/checkpoint.view';

export const AUDIT_CHECKPOINTS_PATH = '/api/platform/v1/audit/checkpoints';

/**
 * A checkpoint on demand, for an operator who needs the log's state signed now rather than at the next
 * interval. Recorded as `audit.checkpoint`; the checkpoint covers that entry.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiProblems(401, 429)
@UseGuards(OperatorRateLimitGuard, OperatorAuthGuard)
@UseInterceptors(OperatorActionInterceptor)
@Controller(AUDIT_CHECKPOINTS_PATH)
export class AuditCheckpointsController {
  constructor(private readonly checkpoint: CheckpointAuditLog) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Sign a checkpoint now',
    description:
      'Sequences every committed entry and signs a checkpoint of the whole log, including the entry that ' +
      'records this request. Keep the body: townhall audit verify --since accepts it as it is.',
  })
  @ApiCreatedResponse({ type: CheckpointView })
  create(): Promise<CheckpointView> {
    return this.checkpoint.run();
  }
}
