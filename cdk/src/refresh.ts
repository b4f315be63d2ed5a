// One value per synth: every resource of an app refreshes together, and two
// synths of the same app (cdk diff, then cdk deploy) differ as two deploys do.
const SYNTH_STAMP = new Date().toISOString();

/**
 * When CloudFormation asks the provider to read the values again.
 *
 * CloudFormation calls a custom resource only when its properties change. The
 * `Refresh` property changes nothing in what is read; a new value makes
 * CloudFormation send an Update, so the provider reads the source again. When
 * the values are unchanged, the resource keeps its physical id and nothing that
 * uses it is touched.
 */
export abstract class Refresh {
  /**
   * Read again on every deploy: a value that changes with each synth (default).
   *
   * The trade-off: `cdk diff` always shows the resources as changed, and two
   * synths of the same commit are not byte-identical. Use `Refresh.withValue`
   * with a commit id for reproducible templates.
   */
  public static everyDeploy(): Refresh {
    return new FixedRefresh(SYNTH_STAMP);
  }

  /**
   * Read again only when the resource's own properties change (no `Refresh`
   * property). A newer value in the source region is not picked up until then.
   */
  public static onChange(): Refresh {
    return new FixedRefresh(undefined);
  }

  /**
   * Read again whenever `value` changes, e.g. a commit id or a build number:
   * reproducible synths, fresh values on each new value.
   */
  public static withValue(value: string): Refresh {
    if (value === '') {
      throw new Error('Refresh.withValue needs a non-empty value (use Refresh.onChange() for none)');
    }
    return new FixedRefresh(value);
  }

  /** The `Refresh` property's value, or undefined for none. */
  public abstract readonly value?: string;
}

class FixedRefresh extends Refresh {
  constructor(public readonly value?: string) {
    super();
  }
}
