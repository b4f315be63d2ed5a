export * from './refresh';
export * from './provider';
export * from './resource';
export * from './parameters';
export * from './function-version';
export * from './stack-outputs';
