import type { ReactNode } from 'react';
import { OverviewPage } from './pages/OverviewPage';
import { ContactPage } from './pages/contacts/ContactPage';
import { ContactsPage } from './pages/contacts/ContactsPage';
import { ImportJobPage } from './pages/contacts/ImportJobPage';
import { ImportPage } from './pages/contacts/ImportPage';
import { ListPage } from './pages/ListPage';
import { ListsPage } from './pages/ListsPage';
import { SegmentPage } from './pages/segments/SegmentPage';
import { SegmentsPage } from './pages/segments/SegmentsPage';
import { SuppressionsPage } from './pages/SuppressionsPage';
import { TagsPage } from './pages/TagsPage';
import { CampaignPage, NewCampaignPage } from './pages/campaigns/CampaignPage';
import { CampaignsPage } from './pages/campaigns/CampaignsPage';
import { SequencePage } from './pages/sequences/SequencePage';
import { SequencesPage } from './pages/sequences/SequencesPage';
import { TemplateEditorPage } from './pages/templates/TemplateEditorPage';
import { TemplatesPage } from './pages/templates/TemplatesPage';
import { SendDetailPage } from './pages/sends/SendDetailPage';
import { SendsPage } from './pages/sends/SendsPage';
import { ApiKeysPage } from './pages/settings/ApiKeysPage';
import { SendingConfigsPage } from './pages/settings/SendingConfigsPage';
import { SiteSettingsPage } from './pages/settings/SiteSettingsPage';
import { UsersPage } from './pages/settings/UsersPage';
import { WebhookDetailPage } from './pages/settings/WebhookDetailPage';
import { WebhooksPage } from './pages/settings/WebhooksPage';

export type NavSection = 'Audience' | 'Messages' | 'Activity' | 'Settings';

/**
 * Every signed-in page: its path under /app/, and where it sits in the navigation. A page with a
 * `label` gets a navigation link; detail pages (`contacts/:id`) have none.
 *
 * Registration point: add a page with one entry here (and its import).
 */
export interface PageRoute {
  path: string;
  element: ReactNode;
  label?: string;
  section?: NavSection;
  /** Only owners see the navigation entry (the page itself says why it is empty to others). */
  ownerOnly?: boolean;
}

export const pages: PageRoute[] = [
  { path: '', label: 'Overview', element: <OverviewPage /> },
  // Audience
  { path: 'contacts', label: 'Contacts', section: 'Audience', element: <ContactsPage /> },
  { path: 'contacts/import', element: <ImportPage /> },
  { path: 'contacts/imports/:id', element: <ImportJobPage /> },
  { path: 'contacts/:id', element: <ContactPage /> },
  { path: 'lists', label: 'Lists', section: 'Audience', element: <ListsPage /> },
  { path: 'lists/:id', element: <ListPage /> },
  { path: 'tags', label: 'Tags', section: 'Audience', element: <TagsPage /> },
  { path: 'segments', label: 'Segments', section: 'Audience', element: <SegmentsPage /> },
  { path: 'segments/:id', element: <SegmentPage /> },
  { path: 'suppressions', label: 'Suppressions', section: 'Audience', element: <SuppressionsPage /> },
  // Messages
  { path: 'campaigns', label: 'Campaigns', section: 'Messages', element: <CampaignsPage /> },
  { path: 'campaigns/new', element: <NewCampaignPage /> },
  { path: 'campaigns/:id', element: <CampaignPage /> },
  { path: 'sequences', label: 'Sequences', section: 'Messages', element: <SequencesPage /> },
  { path: 'sequences/:id', element: <SequencePage /> },
  { path: 'templates', label: 'Templates', section: 'Messages', element: <TemplatesPage /> },
  { path: 'templates/new', element: <TemplateEditorPage /> },
  { path: 'templates/:id', element: <TemplateEditorPage /> },
  { path: 'sends', label: 'Send log', section: 'Activity', element: <SendsPage /> },
  { path: 'sends/:id', element: <SendDetailPage /> },
  { path: 'settings/site', label: 'Site settings', section: 'Settings', element: <SiteSettingsPage /> },
  { path: 'sending-configs', label: 'Sending configs', section: 'Settings', element: <SendingConfigsPage /> },
  { path: 'webhooks', label: 'Webhooks', section: 'Settings', element: <WebhooksPage /> },
  { path: 'webhooks/:id', element: <WebhookDetailPage /> },
  { path: 'api-keys', label: 'API keys', section: 'Settings', ownerOnly: true, element: <ApiKeysPage /> },
  { path: 'users', label: 'Users', section: 'Settings', ownerOnly: true, element: <UsersPage /> },
];
