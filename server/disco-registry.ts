// What a host says about itself in disco#info (XEP-0030): identities and features registered
// by modules, plus every namespace the IQ table serves, so the list is never claimed by hand.
import type { IqTable, IqTarget } from './iq-table.ts';

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
  lang?: string;
}

/** An extension form (XEP-0128), e.g. contact addresses (XEP-0157). */
export interface DiscoExtension {
  formType: string;
  fields: { var: string; values: string[] }[];
}

interface Registered<T> {
  value: T;
  target: IqTarget;
}

/** What a module may read of the registry (the disco and caps modules answer from it). */
export interface DiscoView {
  identitiesOf(target: IqTarget): DiscoIdentity[];
  featuresOf(target: IqTarget): string[];
  extensionsOf(target: IqTarget): DiscoExtension[];
  /** Changes whenever what the view reports may have changed, so a reader can cache what it derives (a caps hash). */
  readonly revision: number;
}

export class DiscoRegistry implements DiscoView {
  private readonly identities: Registered<DiscoIdentity>[] = [];
  private readonly extraFeatures: Registered<string>[] = [];
  private readonly extensions: Registered<DiscoExtension>[] = [];
  private changes = 0;

  constructor(private readonly iq: IqTable) {}

  get revision(): number {
    // Both counters only grow, so their sum changes whenever either does.
    return this.changes + this.iq.revision;
  }

  addIdentity(identity: DiscoIdentity, target: IqTarget): () => void {
    return this.add(this.identities, { value: identity, target });
  }

  /** A feature that is not an IQ namespace (e.g. 'msgoffline', 'urn:xmpp:carbons:2' rules). */
  addFeature(feature: string, target: IqTarget): () => void {
    return this.add(this.extraFeatures, { value: feature, target });
  }

  addExtension(ext: DiscoExtension, target: IqTarget): () => void {
    return this.add(this.extensions, { value: ext, target });
  }

  identitiesOf(target: IqTarget): DiscoIdentity[] {
    return this.identities.filter((r) => r.target === target).map((r) => r.value);
  }

  /** Sorted and without duplicates (XEP-0115 §5.1 wants a canonical order for hashing). */
  featuresOf(target: IqTarget): string[] {
    const all = this.iq.features(target);
    for (const r of this.extraFeatures) if (r.target === target) all.add(r.value);
    return [...all].sort();
  }

  extensionsOf(target: IqTarget): DiscoExtension[] {
    return this.extensions.filter((r) => r.target === target).map((r) => r.value);
  }

  private add<T>(list: T[], item: T): () => void {
    list.push(item);
    this.changes++;
    return () => {
      const i = list.indexOf(item);
      if (i >= 0) {
        list.splice(i, 1);
        this.changes++;
      }
    };
  }
}
