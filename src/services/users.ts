import type { Db } from '../db/client.js';
import { createSetupToken } from '../db/repositories/setup-tokens.js';
import { deleteUserSessions } from '../db/repositories/user-sessions.js';
import {
  countOtherActiveOwners,
  deleteUser as deleteUserRow,
  getUser,
  lockSiteUsers,
  updateUser as updateUserRow,
  type User,
  type UserRole,
} from '../db/repositories/users.js';
import { AppError } from '../errors.js';

/** The dashboard page that reads `?token=` and posts `POST /api/v1/auth/setup`. */
export function setupUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/app/setup?token=${encodeURIComponent(token)}`;
}

/** A one-time sign-up link for a new user of the site with this role (valid SETUP_TOKEN_TTL_DAYS). */
export async function inviteUser(db: Db, siteId: number, role: UserRole, publicUrl: string): Promise<{ url: string; expiresAt: Date }> {
  const { token, expiresAt } = await createSetupToken(db, { siteId, role });
  return { url: setupUrl(publicUrl, token), expiresAt };
}

const lastOwner = () =>
  new AppError('last_owner', 'conflict', 'This is the last active owner of the site: make another user owner first');

/** True when the change leaves `user` unable to act as an owner (demoted, or disabled while owner). */
function removesOwner(user: User, changes: { role?: UserRole; disabled?: boolean }): boolean {
  if (user.role !== 'owner' || user.disabledAt) return false;
  return (changes.role !== undefined && changes.role !== 'owner') || changes.disabled === true;
}

/**
 * Changes a user's role, name or disabled state. A site always keeps one active owner: demoting or
 * disabling the last one is a 409. Checked under a per-site lock, so two owners demoting each other at
 * the same moment cannot both succeed. Disabling signs the user out everywhere.
 */
export async function updateUser(
  db: Db,
  siteId: number,
  id: number,
  changes: { role?: UserRole; name?: string; disabled?: boolean },
): Promise<User> {
  return db.transaction(async (tx) => {
    await lockSiteUsers(tx, siteId);
    const user = await getUser(tx, siteId, id);
    if (!user) throw AppError.notFound('User', id);
    if (removesOwner(user, changes) && (await countOtherActiveOwners(tx, siteId, id)) === 0) throw lastOwner();
    const updated = await updateUserRow(tx, siteId, id, changes);
    if (changes.disabled === true) await deleteUserSessions(tx, id);
    return updated!;
  });
}

/** Deletes a user and its sessions; the last active owner cannot be deleted (409). */
export async function deleteUser(db: Db, siteId: number, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await lockSiteUsers(tx, siteId);
    const user = await getUser(tx, siteId, id);
    if (!user) throw AppError.notFound('User', id);
    if (removesOwner(user, { disabled: true }) && (await countOtherActiveOwners(tx, siteId, id)) === 0) throw lastOwner();
    await deleteUserRow(tx, siteId, id);
  });
}
