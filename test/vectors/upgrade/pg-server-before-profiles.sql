--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alerts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alerts (
    id bigint NOT NULL,
    device_id text NOT NULL,
    code integer NOT NULL,
    correlator text,
    items text NOT NULL,
    received_at bigint NOT NULL
);


--
-- Name: alerts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.alerts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: alerts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.alerts_id_seq OWNED BY public.alerts.id;


--
-- Name: device_jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.device_jobs (
    id text NOT NULL,
    device_id text NOT NULL,
    correlator text,
    record text NOT NULL
);


--
-- Name: device_locations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.device_locations (
    device_id text NOT NULL,
    gateway_id text NOT NULL,
    at bigint NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    device_id text NOT NULL,
    scheme text NOT NULL,
    client_name text NOT NULL,
    client_password text NOT NULL,
    server_name text,
    server_password text,
    client_nonce bytea,
    server_nonce bytea,
    notify_address text,
    dev_info text DEFAULT '{}'::text NOT NULL,
    created_at bigint NOT NULL,
    last_seen bigint
);


--
-- Name: image_chunks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.image_chunks (
    image_id text NOT NULL,
    n integer NOT NULL,
    data bytea NOT NULL
);


--
-- Name: image_link_key; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.image_link_key (
    id integer NOT NULL,
    key bytea NOT NULL,
    CONSTRAINT image_link_key_id_check CHECK ((id = 1))
);


--
-- Name: image_records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.image_records (
    id text NOT NULL,
    sha256 text NOT NULL,
    name_key text NOT NULL,
    meta text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: images; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.images (
    id text NOT NULL,
    meta text NOT NULL,
    size bigint NOT NULL,
    complete boolean DEFAULT false NOT NULL
);


--
-- Name: operations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.operations (
    seq bigint NOT NULL,
    id text NOT NULL,
    device_id text NOT NULL,
    kind text NOT NULL,
    target text NOT NULL,
    source text,
    data_text text,
    data_blob bytea,
    format text,
    type text,
    correlator text,
    state text NOT NULL,
    status integer,
    results text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    sent_by text
);


--
-- Name: operations_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.operations_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: operations_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.operations_seq_seq OWNED BY public.operations.seq;


--
-- Name: push_polls; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_polls (
    device_id text NOT NULL,
    instance_id text NOT NULL,
    since bigint NOT NULL
);


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    component text NOT NULL,
    version integer NOT NULL
);


--
-- Name: server_instances; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.server_instances (
    id text NOT NULL,
    started_at bigint NOT NULL,
    beat_at bigint NOT NULL
);


--
-- Name: alerts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alerts ALTER COLUMN id SET DEFAULT nextval('public.alerts_id_seq'::regclass);


--
-- Name: operations seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations ALTER COLUMN seq SET DEFAULT nextval('public.operations_seq_seq'::regclass);


--
-- Data for Name: alerts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alerts VALUES (1, 'IMEI:OLD-PG', 1226, NULL, '[{"type":"org.openmobilealliance.dm.firmwareupdate.devicerequest","data":"0"}]', 1700000004000);


--
-- Data for Name: device_jobs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: device_locations; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.devices VALUES ('IMEI:OLD-PG', 'syncml:auth-md5', 'old-pg', 'old-pw', 'gwmo', 'srv-pw', NULL, NULL, NULL, '{"Mod":"old-model"}', 1700000000000, NULL);


--
-- Data for Name: image_chunks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: image_link_key; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: image_records; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: images; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: operations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.operations VALUES (1, 'pg-op-done', 'IMEI:OLD-PG', 'Get', './DevInfo/Mod', NULL, NULL, NULL, NULL, NULL, NULL, 'done', 200, '[{"source":"./DevInfo/Mod","data":"old-model"}]', 1700000001000, 1700000002000, NULL);
INSERT INTO public.operations VALUES (2, 'pg-op-queued', 'IMEI:OLD-PG', 'Replace', './Vendor/X', NULL, 'y', NULL, NULL, NULL, NULL, 'queued', NULL, NULL, 1700000003000, 1700000003000, NULL);


--
-- Data for Name: push_polls; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES ('server', 3);
INSERT INTO public.schema_version VALUES ('images', 1);


--
-- Data for Name: server_instances; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: alerts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.alerts_id_seq', 1, true);


--
-- Name: operations_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.operations_seq_seq', 2, true);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);


--
-- Name: device_jobs device_jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_jobs
    ADD CONSTRAINT device_jobs_pkey PRIMARY KEY (id);


--
-- Name: device_locations device_locations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_locations
    ADD CONSTRAINT device_locations_pkey PRIMARY KEY (device_id);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (device_id);


--
-- Name: image_chunks image_chunks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_chunks
    ADD CONSTRAINT image_chunks_pkey PRIMARY KEY (image_id, n);


--
-- Name: image_link_key image_link_key_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_link_key
    ADD CONSTRAINT image_link_key_pkey PRIMARY KEY (id);


--
-- Name: image_records image_records_name_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_records
    ADD CONSTRAINT image_records_name_key_key UNIQUE (name_key);


--
-- Name: image_records image_records_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_records
    ADD CONSTRAINT image_records_pkey PRIMARY KEY (id);


--
-- Name: images images_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.images
    ADD CONSTRAINT images_pkey PRIMARY KEY (id);


--
-- Name: operations operations_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_id_key UNIQUE (id);


--
-- Name: operations operations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_pkey PRIMARY KEY (seq);


--
-- Name: push_polls push_polls_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_polls
    ADD CONSTRAINT push_polls_pkey PRIMARY KEY (device_id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (component);


--
-- Name: server_instances server_instances_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.server_instances
    ADD CONSTRAINT server_instances_pkey PRIMARY KEY (id);


--
-- Name: alerts_device; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alerts_device ON public.alerts USING btree (device_id, id);


--
-- Name: device_jobs_correlator; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX device_jobs_correlator ON public.device_jobs USING btree (correlator);


--
-- Name: device_jobs_device; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX device_jobs_device ON public.device_jobs USING btree (device_id);


--
-- Name: image_records_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX image_records_sha256 ON public.image_records USING btree (sha256);


--
-- Name: operations_device_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX operations_device_state ON public.operations USING btree (device_id, state, seq);


--
-- Name: operations_sent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX operations_sent ON public.operations USING btree (sent_by) WHERE (state = 'sent'::text);


--
-- Name: alerts alerts_device_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(device_id) ON DELETE CASCADE;


--
-- Name: image_chunks image_chunks_image_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_chunks
    ADD CONSTRAINT image_chunks_image_id_fkey FOREIGN KEY (image_id) REFERENCES public.images(id) ON DELETE CASCADE;


--
-- Name: image_records image_records_sha256_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.image_records
    ADD CONSTRAINT image_records_sha256_fkey FOREIGN KEY (sha256) REFERENCES public.images(id);


--
-- Name: operations operations_device_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(device_id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


