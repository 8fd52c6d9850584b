import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { TOWNHALL_CONFIG, TownhallConfig } from './config';
import { loggerParams } from './logging';
import { resolveSecretKey, SecretBox } from './secret-box';

/** Configuration, logging and secret handling, shared by every app. Imported once by each root module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [LoggerModule.forRoot(loggerParams(config))],
      providers: [
        { provide: TOWNHALL_CONFIG, useValue: config },
        { provide: SecretBox, useFactory: () => new SecretBox(resolveSecretKey(config)) },
      ],
      exports: [TOWNHALL_CONFIG, SecretBox],
    };
  }
}
