// The controller machinery the operator's reconcilers are built on.
export * from './api-resource';
export * from './backoff';
export * from './controller';
export * from './controller-metrics';
export * from './leader-elector';
export * from './object-key';
export * from './object-store';
export * from './probe-server';
export * from './resilient-informer';
export * from './terminal-error';
export * from './work-queue';
