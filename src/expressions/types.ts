// Public contracts of the expression language: what callers pass in and get back.

export interface EvaluateOptions {
  /** Clock for Now(); default new Date(). */
  now?: Date;
  /** The tenant's default verified domain, for DefaultDomain(). */
  defaultDomain?: string;
  /** SelectUniqueValue: returns true when the candidate value already exists on the target for this attribute. */
  valueExists?: (value: string) => boolean;
  /** AppRoleAssignmentsComplex / SingleAppRoleAssignment inputs, when the caller has them. */
  appRoleAssignments?: { id: string; value: string; displayName?: string }[];
  /** Source of randomness in [0, 1) for Guid/RandomString in tests; default crypto-strong randomness. */
  random?: () => number;
}

export interface EvaluationResult {
  /**
   * string | number | boolean | null | array (multi-valued), or role objects from
   * AppRoleAssignmentsComplex. DateTime results are rendered `M/d/yyyy h:mm:ss tt` (UTC). NumFromDate's
   * Int64 is a string of decimal digits, so it survives JSON without losing precision.
   */
  value: unknown;
  /** `ignoreAttribute`: drop the target attribute (nothing written or cleared); `ignoreObject`: skip the object. */
  flow: 'flow' | 'ignoreAttribute' | 'ignoreObject';
  /** True when the expression uses Redact(): logs, plans and previews must show `[redacted]` instead of the value. */
  redacted?: boolean;
}

export interface CompiledExpression {
  readonly source: string;
  /** Attribute names referenced ([mail], [IsSoftDeleted] …), for Graph $select. */
  readonly references: readonly string[];
  evaluate(attributes: Readonly<Record<string, unknown>>, options?: EvaluateOptions): EvaluationResult;
}
