export { syncConfig } from './syncConfig';
export { revisionReports } from './report';
export { treeMonitor } from './treeMonitor';
export { revisionPipeline } from './revisionPipeline';
export { buildBoot } from './buildBoot';
export { bisect } from './bisect';
export { retention } from './retention';
export { tryKernel } from './tryKernel';
