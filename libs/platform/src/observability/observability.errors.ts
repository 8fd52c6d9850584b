/** The platform library's one error class, under the name the health checks know it by. */
export { PlatformError as ObservabilityError } from '../platform.errors';
