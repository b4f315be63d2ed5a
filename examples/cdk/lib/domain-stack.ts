import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

export interface DomainStackProps extends StackProps {
  /** The hosted zone to create, e.g. example.com. */
  readonly zoneName: string;
  /** The name the distribution serves, e.g. app.example.com. */
  readonly domainName: string;
}

/**
 * us-east-1: the hosted zone and the CloudFront certificate (CloudFront only
 * accepts ACM certificates from us-east-1).
 *
 * The outputs carry no export: ClientAppStack reads them with
 * Custom::CrossRegionParam (`StackName: DomainStack`), as
 * `Outputs.CertificateArn` and `Outputs.HostedZoneId`.
 */
export class DomainStack extends Stack {
  constructor(scope: Construct, id: string, props: DomainStackProps) {
    super(scope, id, props);

    const zone = new route53.PublicHostedZone(this, 'Zone', { zoneName: props.zoneName });

    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });

    new CfnOutput(this, 'CertificateArn', { value: certificate.certificateArn });
    new CfnOutput(this, 'HostedZoneId', { value: zone.hostedZoneId });
  }
}
