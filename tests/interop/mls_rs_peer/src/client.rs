//! One named client of the peer (its own signature key, credential, key packages and at
//! most one group) and the request dispatch of PROTOCOL.md.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mls_rs::client_builder::{
    BaseConfig, PaddingMode, WithCryptoProvider, WithIdentityProvider, WithMlsRules,
};
use mls_rs::group::{ExportedTree, GroupContext, ReceivedMessage, Roster};
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::identity::SigningIdentity;
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};
use mls_rs::time::MlsTime;
use mls_rs::{
    CipherSuite, CipherSuiteProvider, Client, CryptoProvider, ExtensionList, Group, MlsMessage,
    MlsRules,
};
use mls_rs_crypto_openssl::OpensslCryptoProvider;
use serde_json::{json, Value};

pub const MLS_RS_VERSION: &str = "0.57.0";

pub type Cfg = WithMlsRules<
    Rules,
    WithIdentityProvider<BasicIdentityProvider, WithCryptoProvider<OpensslCryptoProvider, BaseConfig>>,
>;

pub fn err<E: Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The per-commit choices of the protocol (tree extension, wire format). mls-rs reads them
/// from its MlsRules when it builds a commit, so the client shares them with its rules.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub tree_ext: bool,
    pub encrypt: bool,
}

#[derive(Clone, Debug)]
pub struct Rules(Arc<Mutex<Options>>);

impl Rules {
    pub fn set(&self, options: Options) {
        *self.0.lock().expect("rules lock") = options;
    }

    fn get(&self) -> Options {
        *self.0.lock().expect("rules lock")
    }
}

impl MlsRules for Rules {
    type Error = Infallible;

    fn filter_proposals(
        &self,
        _: CommitDirection,
        _: CommitSource,
        _: &Roster,
        _: &GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Self::Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _: &Roster,
        _: &GroupContext,
        _: &ProposalBundle,
    ) -> Result<CommitOptions, Self::Error> {
        // Every commit carries an UpdatePath, as Burrow's and ts-mls's do.
        Ok(CommitOptions::new()
            .with_path_required(true)
            .with_single_welcome_message(true)
            .with_ratchet_tree_extension(self.get().tree_ext))
    }

    fn encryption_options(
        &self,
        _: &Roster,
        _: &GroupContext,
    ) -> Result<EncryptionOptions, Self::Error> {
        Ok(EncryptionOptions::new(self.get().encrypt, PaddingMode::StepFunction))
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err("odd-length hex".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| "bad hex".to_string()))
        .collect()
}

pub struct Member {
    pub client: Client<Cfg>,
    pub rules: Rules,
    pub group: Option<Group<Cfg>>,
    identity: String,
    suite: u16,
}

impl Member {
    pub fn new(identity: &str, suite: u16) -> Result<Self, String> {
        let cipher_suite = CipherSuite::from(suite);
        let crypto = OpensslCryptoProvider::default();
        let provider = crypto
            .cipher_suite_provider(cipher_suite)
            .ok_or_else(|| format!("cipher suite {suite} is not supported"))?;
        let (secret, public) = provider.signature_key_generate().map_err(err)?;
        let credential = BasicCredential::new(identity.as_bytes().to_vec()).into_credential();
        let rules = Rules(Arc::new(Mutex::new(Options { tree_ext: true, encrypt: true })));
        let client = Client::builder()
            .crypto_provider(crypto)
            .identity_provider(BasicIdentityProvider)
            .mls_rules(rules.clone())
            .signing_identity(SigningIdentity::new(credential, public), secret, cipher_suite)
            // not_before is an hour back (PROTOCOL.md pitfalls), so a year and a bit.
            .key_package_lifetime(Duration::from_secs(366 * 24 * 3600))
            .build();
        Ok(Self { client, rules, group: None, identity: identity.into(), suite })
    }

    pub fn key_package(&self) -> Result<MlsMessage, String> {
        let not_before = MlsTime::from(now_secs().saturating_sub(3600));
        self.client
            .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), Some(not_before))
            .map_err(err)
    }

    pub fn group(&mut self) -> Result<&mut Group<Cfg>, String> {
        self.group.as_mut().ok_or_else(|| "client has no group".to_string())
    }

    fn create_group(&mut self, group_id: Vec<u8>) -> Result<Value, String> {
        let group = self
            .client
            .create_group_with_id(group_id, ExtensionList::new(), ExtensionList::new(), None)
            .map_err(err)?;
        self.group = Some(group);
        self.info()
    }

    fn commit(&mut self, request: &Value, key_packages: &[Vec<u8>]) -> Result<Value, String> {
        let tree_ext = request.get("ratchet_tree_extension").and_then(Value::as_bool).unwrap_or(true);
        let public = request.get("public_message").and_then(Value::as_bool).unwrap_or(false);
        let removes = match request.get("remove_leaves") {
            Some(Value::Array(leaves)) => leaves
                .iter()
                .map(|v| v.as_u64().map(|l| l as u32).ok_or("bad leaf index"))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        self.rules.set(Options { tree_ext, encrypt: !public });
        let group = self.group()?;
        let mut builder = group.commit_builder();
        for kp in key_packages {
            builder = builder.add_member(MlsMessage::from_bytes(kp).map_err(err)?).map_err(err)?;
        }
        for leaf in removes {
            builder = builder.remove_member(leaf).map_err(err)?;
        }
        let output = builder.build().map_err(err)?;
        if let Err(e) = group.apply_pending_commit() {
            group.clear_pending_commit();
            return Err(err(e));
        }
        let welcome = match output.welcome_messages.first() {
            Some(w) => Value::String(to_hex(&w.to_bytes().map_err(err)?)),
            None => Value::Null,
        };
        Ok(json!({
            "commit": to_hex(&output.commit_message.to_bytes().map_err(err)?),
            "welcome": welcome,
            "ratchet_tree": to_hex(&group.export_tree().to_bytes().map_err(err)?),
            "epoch": group.current_epoch(),
        }))
    }

    fn join(&mut self, welcome: &[u8], tree: Option<Vec<u8>>) -> Result<Value, String> {
        let message = MlsMessage::from_bytes(welcome).map_err(err)?;
        let tree = match &tree {
            Some(bytes) => Some(ExportedTree::from_bytes(bytes).map_err(err)?),
            None => None,
        };
        let (group, _) = self.client.join_group(tree, &message, None).map_err(err)?;
        self.group = Some(group);
        self.info()
    }

    fn process(&mut self, message: &[u8]) -> Result<Value, String> {
        let message = MlsMessage::from_bytes(message).map_err(err)?;
        let group = self.group()?;
        let before = group.current_epoch();
        // A failed request leaves the state as it was (PROTOCOL.md): keep a copy to restore.
        let backup = group.clone();
        let result = match group.process_incoming_message(message) {
            Ok(ReceivedMessage::ApplicationMessage(app)) => {
                Ok(json!({"kind": "application", "plaintext": to_hex(app.data()), "epoch": before}))
            }
            Ok(ReceivedMessage::Commit(_)) => {
                Ok(json!({"kind": "commit", "epoch": group.current_epoch()}))
            }
            Ok(ReceivedMessage::Proposal(_)) => {
                Ok(json!({"kind": "proposal", "epoch": group.current_epoch()}))
            }
            Ok(_) => Err("not a group message".to_string()),
            Err(e) => Err(err(e)),
        };
        if result.is_err() {
            *group = backup;
        }
        result
    }

    fn info(&mut self) -> Result<Value, String> {
        let (identity, suite) = (self.identity.clone(), self.suite);
        let Some(group) = self.group.as_ref() else {
            return Ok(json!({"identity": identity, "suite": suite, "has_group": false}));
        };
        let members: Vec<Value> = group
            .roster()
            .members_iter()
            .map(|m| {
                let name = m
                    .signing_identity
                    .credential
                    .as_basic()
                    .map(|b| String::from_utf8_lossy(b.identifier()).into_owned())
                    .unwrap_or_default();
                json!({"leaf": m.index, "identity": name})
            })
            .collect();
        let context = group.context();
        Ok(json!({
            "identity": identity,
            "suite": suite,
            "has_group": true,
            "group_id": to_hex(&context.group_id),
            "epoch": context.epoch,
            "tree_hash": to_hex(&context.tree_hash),
            "epoch_authenticator": to_hex(group.epoch_authenticator().map_err(err)?.as_bytes()),
            "own_leaf": group.current_member_index(),
            "members": members,
        }))
    }

    fn handle(&mut self, op: &str, request: &Value) -> Result<Value, String> {
        let bytes = |key: &str| -> Result<Vec<u8>, String> {
            from_hex(request.get(key).and_then(Value::as_str).ok_or(format!("missing {key}"))?)
        };
        match op {
            "key_package" => Ok(json!({"key_package": to_hex(&self.key_package()?.to_bytes().map_err(err)?)})),
            "create_group" => {
                let id = match request.get("group_id").and_then(Value::as_str) {
                    Some(hex) => from_hex(hex)?,
                    None => format!("group-{}", now_secs()).into_bytes(),
                };
                self.create_group(id)
            }
            "add" | "commit" | "remove" => {
                let kps = match request.get("key_packages") {
                    Some(Value::Array(list)) => list
                        .iter()
                        .map(|v| from_hex(v.as_str().unwrap_or("")))
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => Vec::new(),
                };
                self.commit(request, &kps)
            }
            "join" => {
                let tree = match request.get("ratchet_tree").and_then(Value::as_str) {
                    Some(hex) => Some(from_hex(hex)?),
                    None => None,
                };
                self.join(&bytes("welcome")?, tree)
            }
            "encrypt" => {
                let aad = match request.get("authenticated_data").and_then(Value::as_str) {
                    Some(hex) => from_hex(hex)?,
                    None => Vec::new(),
                };
                let plaintext = bytes("plaintext")?;
                let message =
                    self.group()?.encrypt_application_message(&plaintext, aad).map_err(err)?;
                Ok(json!({"message": to_hex(&message.to_bytes().map_err(err)?)}))
            }
            "process" => self.process(&bytes("message")?),
            "export" => {
                let label = request.get("label").and_then(Value::as_str).unwrap_or("");
                let context = match request.get("context").and_then(Value::as_str) {
                    Some(hex) => from_hex(hex)?,
                    None => Vec::new(),
                };
                let length = request.get("length").and_then(Value::as_u64).unwrap_or(32) as usize;
                let secret =
                    self.group()?.export_secret(label.as_bytes(), &context, length).map_err(err)?;
                Ok(json!({"secret": to_hex(secret.as_bytes())}))
            }
            "group_info" => {
                let info = self.group()?.group_info_message_allowing_ext_commit(true).map_err(err)?;
                Ok(json!({"group_info": to_hex(&info.to_bytes().map_err(err)?)}))
            }
            "info" => self.info(),
            _ => Err(format!("unknown op {op}")),
        }
    }
}

/// All clients of one peer process, created on first use.
#[derive(Default)]
pub struct Peer {
    clients: HashMap<String, Member>,
}

impl Peer {
    pub fn handle(&mut self, op: &str, request: &Value) -> Result<Value, String> {
        if op == "quit" {
            return Ok(json!({}));
        }
        let name = request.get("client").and_then(Value::as_str).unwrap_or("default").to_string();
        if !self.clients.contains_key(&name) {
            let identity = request.get("identity").and_then(Value::as_str).unwrap_or(&name);
            let suite = request.get("suite").and_then(Value::as_u64).unwrap_or(1);
            let suite = u16::try_from(suite).map_err(|_| "bad suite".to_string())?;
            let member = Member::new(identity, suite)?;
            self.clients.insert(name.clone(), member);
        }
        let member = self.clients.get_mut(&name).expect("inserted above");
        member.handle(op, request)
    }
}
