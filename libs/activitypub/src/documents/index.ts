export * from './activity-streams';
export * from './negotiation';
export * from './webfinger';
