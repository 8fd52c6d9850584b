import { Body, Controller, HttpCode, Param, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { OperatorAuthGuard } from '@townhall/auth';
import { AuditSubjects, ComplianceError } from '@townhall/compliance';
import { OperatorActionInterceptor } from '../operator-action.interceptor';
import { OperatorRateLimitGuard } from '../operator-rate-limit';
import { ApiProblem, ApiProblems } from '../problem.view';
import { TOWNHALL_ID_PATTERN } from '../shared/townhall-id';
import { AuditSubjectView, LookupAuditSubjectDto } from './audit-subject.dto';

export const AUDIT_SUBJECTS_PATH = '/api/platform/v1/audit/subjects';

const NOT_FOUND = ApiProblem(404, 'No such subject, or it was erased');

/**
 * The people behind the audit log's pseudonyms, for an operator handling an erasure request: find the
 * person's subject, then erase it. Both are recorded (`audit.subject.lookup`, `audit.subject.erase`),
 * found or not. Lookups are POSTs so the identifier — personal data — never appears in a URL or a log.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiProblems(401, 429)
@UseGuards(OperatorRateLimitGuard, OperatorAuthGuard)
@UseInterceptors(OperatorActionInterceptor)
@Controller(AUDIT_SUBJECTS_PATH)
export class AuditSubjectsController {
  constructor(private readonly subjects: AuditSubjects) {}

  @Post('lookup')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Find the subject id of a person',
    description:
      'Maps an identifier to the pseudonymous subject id the audit log uses for that person. The identifier ' +
      'is not stored anywhere; the lookup is recorded with the subject found.',
  })
  @ApiOkResponse({ type: AuditSubjectView })
  @ApiProblems(400)
  @NOT_FOUND
  async lookup(@Body() body: LookupAuditSubjectDto): Promise<AuditSubjectView> {
    const subjectId = await this.subjects.find(body.identifier);
    if (subjectId === null)
      throw new ComplianceError('audit_subject_not_found', 'No subject has this identifier.');
    return { subjectId };
  }

  @Post(':id/erase')
  @HttpCode(204)
  @ApiParam({
    name: 'id',
    description: 'Subject id',
    schema: { type: 'string', pattern: TOWNHALL_ID_PATTERN },
    example: '7380412938240000301',
  })
  @ApiOperation({
    summary: 'Erase a person from the audit log',
    description:
      'Destroys the subject’s key: its personal data in the audit log becomes unreadable for good, while ' +
      'every entry, checkpoint and proof stays valid. Cannot be undone. Copies of the database made before ' +
      '(backups) still open with the platform secret until the period key the subject was wrapped under is ' +
      'destroyed (the first rotation of period keys after this month, or `townhall audit period-keys rotate ' +
      '--new-period`); the erasure is final once those copies have expired. Personal data held elsewhere ' +
      '(tenant records, tenant instances) is not affected; see docs/compliance.md.',
  })
  @ApiNoContentResponse({ description: 'Erased' })
  @NOT_FOUND
  @ApiProblem(403, 'The subject is the operator making the request: another operator must erase it')
  async erase(@Param('id') id: string): Promise<void> {
    await this.subjects.erase(id);
  }
}
