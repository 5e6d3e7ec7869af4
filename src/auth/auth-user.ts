/** Who is calling, as proven by their bearer token. */
export interface AuthUser {
  readonly id: string;
  readonly email: string;
}
