import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { TenancyModule } from '@townhall/tenancy';
import { ProfileCommands } from './accounts/profile';
import { Conversations } from './conversations/conversations';
import { Lists } from './lists/lists';
import { ScheduledStatuses } from './scheduled/scheduled-statuses';
import { ScheduledWorkRunner } from './scheduled/scheduled-work';
import { Polls } from './polls/polls';
import { Filters } from './filters/filters';
import { MediaAttachments } from './media/media-attachments';
import { MEDIA_QUEUE, MediaProcessing } from './media/media-processing';
import { MediaSweeper } from './media/media-sweeper';
import { LocalDiskMediaStorage, MediaStorage } from './media/media-storage';
import { AccountQueries } from './accounts/account-queries';
import { LocalAccountCommands } from './accounts/local-account-commands';
import { InstanceActivity } from './instance-activity';
import { LocalUsageCache } from './local-usage';
import { Markers } from './markers/markers';
import { Notifications } from './notifications/notifications';
import { DomainBlocks } from './relationships/domain-blocks';
import { Relationships } from './relationships/relationships';
import { StatusCommands } from './statuses/status-commands';
import { StatusInteractions } from './statuses/status-interactions';
import { StatusQueries } from './statuses/status-queries';
import { PublicReads } from './public/public-reads';
import { Search } from './search/search';
import { TagTimeline } from './tags/tag-timeline';
import { Tags } from './tags/tags';
import { StreamEventPublisher } from './streaming/stream-events';

/** The Mastodon domain's services, each provided and exported; the media storage beside them. */
const SERVICES = [
  LocalUsageCache,
  InstanceActivity,
  LocalAccountCommands,
  AccountQueries,
  StatusCommands,
  StatusQueries,
  StatusInteractions,
  Relationships,
  DomainBlocks,
  Notifications,
  Markers,
  MediaAttachments,
  MediaProcessing,
  MediaSweeper,
  ProfileCommands,
  Lists,
  Polls,
  Conversations,
  ScheduledWorkRunner,
  ScheduledStatuses,
  Filters,
  Search,
  Tags,
  TagTimeline,
  StreamEventPublisher,
  PublicReads,
];

/** The Mastodon domain's services for the apps that serve tenants. */
@Module({
  imports: [TenancyModule, BullModule.registerQueue({ name: MEDIA_QUEUE })],
  providers: [
    ...SERVICES,
    {
      provide: MediaStorage,
      inject: [TOWNHALL_CONFIG],
      useFactory: (config: TownhallConfig) => new LocalDiskMediaStorage(config.media.root),
    },
  ],
  exports: [...SERVICES, MediaStorage],
})
export class SocialModule {}
