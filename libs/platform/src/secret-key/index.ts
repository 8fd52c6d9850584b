export { checkSecretKey, SECRET_KEY_ADVICE } from './secret-key-check';
export * from './rotate-secret-key';
export type { RotationProgress } from './reseal';
