import { Construct } from 'constructs';
import { Data } from './contract';
import { CrossRegionParam, CrossRegionReadOptions } from './resource';

/** Props of `CrossRegionStackOutputs`. */
export interface CrossRegionStackOutputsProps extends CrossRegionReadOptions {
  /** Region of the stack. */
  readonly region: string;

  /** The stack's name or ARN. */
  readonly stackName: string;
}

/**
 * The outputs of a stack in another region (or account), read at deploy
 * time: no Export, no Fn::ImportValue, so the producer stays free to change them.
 */
export class CrossRegionStackOutputs extends Construct {
  /** The Custom::CrossRegionParam resource. */
  public readonly resource: CrossRegionParam;

  constructor(scope: Construct, id: string, props: CrossRegionStackOutputsProps) {
    super(scope, id);
    this.resource = new CrossRegionParam(this, 'Resource', props);
  }

  /**
   * The value of one output of the stack.
   * @param outputKey the output's key (its logical id in the producer's template)
   */
  public getOutput(outputKey: string): string {
    if (outputKey === '') {
      throw new Error(`${this.node.path}: getOutput needs an output key`);
    }
    return this.resource.getData(`${Data.outputPrefix}${outputKey}`);
  }
}
