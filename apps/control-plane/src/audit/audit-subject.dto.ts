import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { MAX_SUBJECT_IDENTIFIER } from '@townhall/compliance';

export class LookupAuditSubjectDto {
  @ApiProperty({
    description:
      'What identifies the person in the audit log, exactly as recorded: email:<address in lower case>, ' +
      'operator:<operator id>, os-user:<account>@<host>',
    maxLength: MAX_SUBJECT_IDENTIFIER,
    example: 'email:press@bmi.example',
  })
  @IsString()
  @Length(1, MAX_SUBJECT_IDENTIFIER)
  identifier: string;
}

export class AuditSubjectView {
  @ApiProperty({
    description: 'The pseudonymous subject id entries carry (details.subjects, actor.onBehalfOf)',
    example: '7380412938240000301',
  })
  subjectId: string;
}
