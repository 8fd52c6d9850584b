import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { TOWNHALL_CONFIG, type TownhallConfig } from '../config';
import { TownhallLogger } from '../logging';
import { ProblemDetailsFilter } from '../problem-details.filter';
import {
  installFormBodyParser,
  installJsonBodyParser,
  installMultipartParser,
  parseQueryString,
} from './request-bodies';
import { installCors } from './cors';
import { installRequestGate, originFormTarget, requestIdOf } from './request-gate';
import { RequestValidationPipe } from './validation';

export type TownhallHttpApp = NestFastifyApplication;

/**
 * The HTTP server every app runs on: Fastify, with routing that is exact (case-sensitive, no trailing
 * slash or duplicate slash folding, so a proxy rule and the app never disagree about a path), the client
 * address taken from X-Forwarded-For only when the peer is a configured proxy, and a body limit.
 * Logging, request ids and body parsing are Townhall's own (see configureHttpApp).
 */
export function createHttpAdapter(config: Pick<TownhallConfig, 'http'>): FastifyAdapter {
  return new FastifyAdapter({
    logger: false,
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    routerOptions: {
      caseSensitive: true,
      ignoreTrailingSlash: false,
      ignoreDuplicateSlashes: false,
      maxParamLength: 512,
      querystringParser: parseQueryString,
    },
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: requestIdOf,
    requestIdHeader: false,
    rewriteUrl: originFormTarget,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
}

/** Options for `NestFactory.create` / `createNestApplication` that go with `createHttpAdapter`. */
export const HTTP_APP_OPTIONS = { bufferLogs: true, bodyParser: false } as const;

/**
 * What every Townhall HTTP app gets, whether it runs alone or inside the all-in-one process: the request
 * gate (request ids, security headers, framing checks, access log), CORS as Mastodon opens it on a
 * tenant's public surfaces (`cors.ts`) and closed everywhere else, JSON, form and multipart bodies with Rails' field names and a depth limit, strict input validation, problem details for every
 * error, structured logs.
 */
export async function configureHttpApp(app: INestApplication): Promise<void> {
  const logger = app.get(TownhallLogger);
  app.useLogger(logger);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  installRequestGate(fastify, logger);
  installCors(fastify);
  installJsonBodyParser(fastify);
  installFormBodyParser(fastify);
  installMultipartParser(fastify);
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks();
}

/** The validated configuration of an app. */
export function configOf(app: INestApplication): TownhallConfig {
  return app.get<TownhallConfig>(TOWNHALL_CONFIG);
}

export interface ApiDocument {
  path: string;
  title: string;
  description: string;
  /** Only controllers of these modules appear in the document. */
  include: Function[]; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  bearer?: boolean;
}

export function mountOpenApi(app: INestApplication, doc: ApiDocument): void {
  const builder = new DocumentBuilder()
    .setTitle(doc.title)
    .setDescription(doc.description)
    .setVersion('0.1.0');
  if (doc.bearer) builder.addBearerAuth();
  const document = SwaggerModule.createDocument(app, builder.build(), { include: doc.include });
  SwaggerModule.setup(doc.path, app, document, { jsonDocumentUrl: `${doc.path}/openapi.json` });
}
