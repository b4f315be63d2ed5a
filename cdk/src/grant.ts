import * as iam from 'aws-cdk-lib/aws-iam';

/** What one construct needs of the provider. */
export interface ReadGrant {
  /** Source region. */
  readonly region: string;
  /** SSM names (without selectors) and paths the provider may read. */
  readonly parameterPaths: string[];
  /** The role assumed before reading, if any. */
  readonly roleArn?: string;
  /** Statements for the provider's own role. */
  readonly statements: iam.PolicyStatement[];
}
