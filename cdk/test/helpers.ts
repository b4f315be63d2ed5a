import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** A stack with a fixed environment, as most apps of the story have. */
export function appStack(id = 'AppStack'): Stack {
  const app = new App();
  return new Stack(app, id, { env: { account: '123456789012', region: 'ap-northeast-1' } });
}

/** Every statement of the provider role's policies, flattened. */
export function providerStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: any[] = [];
  for (const policy of Object.values(policies)) {
    const roles = JSON.stringify(policy.Properties.Roles);
    if (roles.includes('CrossRegionParamProviderRole')) {
      out.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  return out;
}

/** The statement granting `action`, or undefined. */
export function statementFor(statements: any[], action: string): any {
  return statements.find((s) => ([] as string[]).concat(s.Action).includes(action));
}

/** A CloudFormation value with Fn::Join flattened to a string ("${Ref}" for references). */
export function flat(value: any): string {
  if (typeof value === 'string') return value;
  if (value && value['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map(flat).join(sep);
  }
  if (value && value.Ref) return `\${${value.Ref}}`;
  if (value && value['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  return JSON.stringify(value);
}

/** Resources of a statement, flattened. */
export function resourcesOf(statement: any): string[] {
  return ([] as any[]).concat(statement.Resource).map(flat);
}
