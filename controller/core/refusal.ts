// Why a change is not made: a stable code, what to do next, and the field at fault.
export interface Refusal {
  /** Stable code, e.g. VK_REFUSED_SHRINK. */
  code: string;
  message: string;
  field?: string;
}
