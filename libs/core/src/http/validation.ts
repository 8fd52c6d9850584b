import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';

const TOLERANT = Symbol('townhall.tolerantRequestShape');

/**
 * Marks a request shape of the Mastodon client API: fields it does not know are dropped, not refused,
 * because Mastodon ignores them and clients send extensions of other servers (Pleroma's `content_type`,
 * Akkoma's `local_only`, …). Fields it does know are validated as strictly as anywhere.
 */
export function MastodonParams(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(TOLERANT, true, target);
  };
}

const OPTIONS = {
  whitelist: true,
  transform: true,
  stopAtFirstError: false,
  validationError: { target: false, value: false },
} as const;

/**
 * The one validation pipe of every app: request shapes are whitelisted and transformed; unknown fields
 * are refused (400) on the platform's own APIs and dropped on shapes marked `@MastodonParams()`.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  private readonly tolerant = new ValidationPipe({ ...OPTIONS, forbidNonWhitelisted: false });

  constructor() {
    super({ ...OPTIONS, forbidNonWhitelisted: true });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const type = metadata.metatype;
    if (type && Reflect.getMetadata(TOLERANT, type) === true) return this.tolerant.transform(value, metadata);
    return super.transform(value, metadata);
  }
}
