// The names of the Custom::CrossRegionParam contract (the repository's
// docs/properties.md): property names, Data keys and the resource type. Kept in
// one file so that no construct spells a name of the contract on its own.

/** CloudFormation resource type every construct of this library creates. */
export const RESOURCE_TYPE = 'Custom::CrossRegionParam';

/** Property names, exactly as the provider reads them. */
export const Prop = {
  region: 'Region',
  parameterName: 'ParameterName',
  parameters: 'Parameters',
  parametersPath: 'ParametersPath',
  recursive: 'Recursive',
  withDecryption: 'WithDecryption',
  functionName: 'FunctionName',
  qualifier: 'Qualifier',
  edgeEventType: 'EdgeEventType',
  stackName: 'StackName',
  roleArn: 'RoleArn',
  externalId: 'ExternalId',
  noEcho: 'NoEcho',
  refresh: 'Refresh',
} as const;

/** Data keys (read with Fn::GetAtt), exactly as the provider answers them. */
export const Data = {
  value: 'Value',
  parameterVersion: 'ParameterVersion',
  versionArn: 'VersionArn',
  version: 'Version',
  functionArn: 'FunctionArn',
  codeSha256: 'CodeSha256',
  outputPrefix: 'Outputs.',
} as const;

/** The provider's configuration variables (template.yaml sets the same ones). */
export const Env = {
  allowedParameterPaths: 'CRP_ALLOWED_PARAMETER_PATHS',
  allowedRegions: 'CRP_ALLOWED_REGIONS',
  allowedRoleArns: 'CRP_ALLOWED_ROLE_ARNS',
} as const;
