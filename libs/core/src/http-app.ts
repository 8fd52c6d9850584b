import { INestApplication, ValidationPipe } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { BootQuietLogger } from './boot-quiet-logger';
import { ProblemDetailsFilter } from './problem-details.filter';

/**
 * What every Townhall HTTP app gets, whether it runs alone or inside the all-in-one process:
 * helmet, CORS closed, strict input validation, problem details for every error, structured logs.
 */
export function configureHttpApp(app: INestApplication): void {
  app.useLogger(new BootQuietLogger(app.get(Logger)));
  app.use(helmet());
  app.enableCors({ origin: false });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      validationError: { target: false, value: false },
    }),
  );
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks();
  const http = app.getHttpAdapter().getInstance() as {
    disable?: (s: string) => void;
    set?: (k: string, v: unknown) => void;
  };
  http.disable?.('x-powered-by');
  http.set?.('trust proxy', 'loopback');
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
