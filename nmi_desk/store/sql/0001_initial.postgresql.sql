-- Schema version 1: the first release. Frozen: later changes are new migrations.

CREATE TABLE app_meta (
	key VARCHAR(64) NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY (key)
);

CREATE TABLE country (
	code VARCHAR(64) NOT NULL, 
	label_nl VARCHAR NOT NULL, 
	label_en VARCHAR NOT NULL, 
	revision INTEGER NOT NULL, 
	PRIMARY KEY (code)
);

CREATE TABLE draft (
	id SERIAL NOT NULL, 
	form VARCHAR(64) NOT NULL, 
	payload VARCHAR NOT NULL, 
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_draft_form ON draft (form);

CREATE TABLE guidance_article (
	slug VARCHAR(128) NOT NULL, 
	revision INTEGER NOT NULL, 
	content VARCHAR NOT NULL, 
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (slug)
);

CREATE TABLE info_session (
	uuid VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	synced_revision INTEGER NOT NULL, 
	id SERIAL NOT NULL, 
	held_on DATE NOT NULL, 
	location_code VARCHAR(64), 
	place VARCHAR(200), 
	partner_code VARCHAR(64), 
	consultant VARCHAR(16) NOT NULL, 
	attendees INTEGER NOT NULL, 
	notes VARCHAR, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_info_session_held_on ON info_session (held_on);
CREATE UNIQUE INDEX ix_info_session_uuid ON info_session (uuid);

CREATE TABLE location (
	code VARCHAR(64) NOT NULL, 
	label_nl VARCHAR NOT NULL, 
	label_en VARCHAR NOT NULL, 
	revision INTEGER NOT NULL, 
	opens VARCHAR NOT NULL, 
	closes VARCHAR NOT NULL, 
	PRIMARY KEY (code)
);

CREATE TABLE organisation (
	code VARCHAR(64) NOT NULL, 
	label_nl VARCHAR NOT NULL, 
	label_en VARCHAR NOT NULL, 
	revision INTEGER NOT NULL, 
	handles VARCHAR NOT NULL, 
	PRIMARY KEY (code)
);

CREATE TABLE sync_conflict (
	id SERIAL NOT NULL, 
	table_name VARCHAR(64) NOT NULL, 
	record_uuid VARCHAR(36) NOT NULL, 
	winner_revision INTEGER NOT NULL, 
	loser_revision INTEGER NOT NULL, 
	loser_device VARCHAR(64) NOT NULL, 
	loser_payload VARCHAR NOT NULL, 
	logged_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_sync_conflict_record_uuid ON sync_conflict (record_uuid);

CREATE TABLE sync_quarantine (
	id SERIAL NOT NULL, 
	table_name VARCHAR(64) NOT NULL, 
	record_uuid VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	reason VARCHAR NOT NULL, 
	logged_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_sync_quarantine_record_uuid ON sync_quarantine (record_uuid);

CREATE TABLE topic (
	code VARCHAR(64) NOT NULL, 
	label_nl VARCHAR NOT NULL, 
	label_en VARCHAR NOT NULL, 
	revision INTEGER NOT NULL, 
	parent VARCHAR(64), 
	synonyms VARCHAR NOT NULL, 
	PRIMARY KEY (code)
);

CREATE TABLE visit (
	uuid VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	synced_revision INTEGER NOT NULL, 
	id SERIAL NOT NULL, 
	started_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	local_date VARCHAR(10) NOT NULL, 
	local_hour INTEGER NOT NULL, 
	location_code VARCHAR(64) NOT NULL, 
	consultant VARCHAR(16) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	count_only BOOLEAN NOT NULL, 
	came_via VARCHAR(64), 
	referred_by VARCHAR(64), 
	client_name VARCHAR(200), 
	birth_year INTEGER, 
	origin_country VARCHAR(2), 
	destination_country VARCHAR(2), 
	language VARCHAR(16), 
	partner_coremigrating BOOLEAN, 
	children_coremigrating INTEGER, 
	outcome VARCHAR(32), 
	notes VARCHAR, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_visit_started_at ON visit (started_at);
CREATE UNIQUE INDEX ix_visit_uuid ON visit (uuid);

CREATE TABLE info_session_topic (
	session_id INTEGER NOT NULL, 
	topic_code VARCHAR(64) NOT NULL, 
	PRIMARY KEY (session_id, topic_code), 
	FOREIGN KEY(session_id) REFERENCES info_session (id) ON DELETE CASCADE
);

CREATE TABLE referral (
	uuid VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	device_id VARCHAR(64) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	synced_revision INTEGER NOT NULL, 
	id SERIAL NOT NULL, 
	visit_id INTEGER NOT NULL, 
	organisation_code VARCHAR(64) NOT NULL, 
	reason VARCHAR, 
	note VARCHAR, 
	follow_up_on DATE, 
	status VARCHAR(16) NOT NULL, 
	outcome_note VARCHAR, 
	closed_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(visit_id) REFERENCES visit (id) ON DELETE CASCADE
);
CREATE INDEX ix_referral_follow_up_on ON referral (follow_up_on);
CREATE UNIQUE INDEX ix_referral_uuid ON referral (uuid);
CREATE INDEX ix_referral_visit_id ON referral (visit_id);

CREATE TABLE visit_topic (
	visit_id INTEGER NOT NULL, 
	topic_code VARCHAR(64) NOT NULL, 
	PRIMARY KEY (visit_id, topic_code), 
	FOREIGN KEY(visit_id) REFERENCES visit (id) ON DELETE CASCADE
);
