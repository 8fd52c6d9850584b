import { Module } from '@nestjs/common';
import { OAuthModule } from '@townhall/auth';
import { SocialModule } from '@townhall/social';
import { TenancyModule } from '@townhall/tenancy';
import { AccountsController } from './accounts/accounts.controller';
import { DomainBlocksController } from './accounts/domain-blocks.controller';
import { ProfileController } from './accounts/profile.controller';
import { AppsController } from './apps/apps.controller';
import { ConversationsController } from './conversations/conversations.controller';
import { InstanceController } from './instance/instance.controller';
import { NotificationsController } from './notifications/notifications.controller';
import { OAuthMetadataController } from './oauth/oauth-metadata.controller';
import { OAuthController } from './oauth/oauth.controller';
import { StartupController } from './startup/startup.controller';
import { PollsController } from './statuses/polls.controller';
import { ScheduledStatusesController } from './statuses/scheduled-statuses.controller';
import { StatusesController } from './statuses/statuses.controller';
import { TimelinesController } from './timelines/timelines.controller';
import { FiltersController, V1FiltersController } from './filters/filters.controller';
import { InstanceService } from './instance/instance.service';
import { ListsController } from './lists/lists.controller';
import { MediaFilesController } from './media/media-files.controller';
import { MediaController } from './media/media.controller';
import { PublicPagesController } from './public/public-pages.controller';
import { SearchController } from './search/search.controller';
import { TagsController } from './tags/tags.controller';

/** The tenant-facing Mastodon client API, routed by `Host`. */
@Module({
  imports: [TenancyModule, SocialModule, OAuthModule],
  controllers: [
    InstanceController,
    AppsController,
    OAuthController,
    AccountsController,
    DomainBlocksController,
    StatusesController,
    TimelinesController,
    NotificationsController,
    StartupController,
    MediaController,
    MediaFilesController,
    ProfileController,
    OAuthMetadataController,
    ListsController,
    PollsController,
    ConversationsController,
    ScheduledStatusesController,
    FiltersController,
    V1FiltersController,
    SearchController,
    TagsController,
    PublicPagesController,
  ],
  providers: [InstanceService],
})
export class InstanceModule {}
