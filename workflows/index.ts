export { syncConfig } from './syncConfig';
