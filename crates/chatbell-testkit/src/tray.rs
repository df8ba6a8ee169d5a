use std::sync::{Arc, Mutex};
use std::time::Duration;

use zbus::message::Header;
use zbus::object_server::SignalEmitter;

use crate::PrivateBus;

#[derive(Default)]
struct Registered {
    /// (unique bus name of the caller, the argument it passed)
    items: Vec<(String, String)>,
}

struct Watcher {
    registered: Arc<Mutex<Registered>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.registered
            .lock()
            .unwrap()
            .items
            .push((sender, service.clone()));
        let _ = Self::status_notifier_item_registered(&emitter, &service).await;
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.registered
            .lock()
            .unwrap()
            .items
            .iter()
            .map(|(_, s)| s.clone())
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;
}

/// Owns `org.kde.StatusNotifierWatcher` on a private bus: the tray host a desktop provides.
pub struct TrayWatcher {
    conn: zbus::Connection,
    registered: Arc<Mutex<Registered>>,
}

/// A tray item's properties, read over D-Bus from the app that registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    pub service: String,
    pub path: String,
    pub id: String,
    pub title: String,
    pub status: String,
    /// On Linux (libayatana-appindicator) a PNG file name in `icon_theme_path`.
    pub icon_name: String,
    pub icon_theme_path: String,
    /// The icon passed as pixels (StatusNotifierItem's `IconPixmap`): (width, height, ARGB32
    /// in network byte order) for each size offered.
    pub icon_pixmap: Vec<(i32, i32, Vec<u8>)>,
    /// The tooltip's title.
    pub tool_tip: String,
}

impl TrayWatcher {
    pub async fn start(bus: &PrivateBus) -> TrayWatcher {
        Self::start_at(bus.address()).await
    }

    /// The same, on a bus known only by its address.
    pub async fn start_at(address: &str) -> TrayWatcher {
        let registered = Arc::new(Mutex::new(Registered::default()));
        let conn = zbus::connection::Builder::address(address)
            .expect("a bus address")
            .serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    registered: registered.clone(),
                },
            )
            .expect("serves the watcher")
            .name("org.kde.StatusNotifierWatcher")
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.kde.StatusNotifierWatcher");
        TrayWatcher { conn, registered }
    }

    /// Waits for the first registered item and reads its properties.
    pub async fn wait_item(&self, timeout: Duration) -> Option<TrayItem> {
        crate::try_eventually("a tray item", timeout, async || {
            let first = self.registered.lock().unwrap().items.first().cloned();
            let Some((sender, arg)) = first else {
                return Err("none registered");
            };
            // The argument is an object path (appindicator) or a bus name (others).
            let (service, path) = if arg.starts_with('/') {
                (sender, arg)
            } else {
                (arg, "/StatusNotifierItem".to_string())
            };
            self.read(&service, &path)
                .await
                .ok_or("registered, its properties unreadable")
        })
        .await
        .ok()
    }

    /// The tray menu's top-level items as a tray host reads them: the `com.canonical.dbusmenu`
    /// layout at the item's `Menu` path. Each is (label, enabled); separators have no label.
    pub async fn menu(&self, item: &TrayItem) -> Vec<(String, bool)> {
        let (_, items) = self.layout(item).await;
        items
            .into_iter()
            .map(|(_, label, enabled)| (label, enabled))
            .collect()
    }

    /// Chooses the top-level menu item labelled `label` as a tray host does when it is
    /// clicked (dbusmenu's `Event` "clicked"); false if there is no such item.
    pub async fn click(&self, item: &TrayItem, label: &str) -> bool {
        let (dbusmenu, items) = self.layout(item).await;
        let Some((id, _, _)) = items.into_iter().find(|(_, l, _)| l == label) else {
            return false;
        };
        let data = zbus::zvariant::Value::from(0i32);
        dbusmenu
            .call::<_, _, ()>("Event", &(id, "clicked", data, 0u32))
            .await
            .is_ok()
    }

    /// The menu's proxy and its top-level items: (id, label, enabled).
    async fn layout(&self, item: &TrayItem) -> (zbus::Proxy<'static>, Vec<(i32, String, bool)>) {
        use std::collections::HashMap;
        use zbus::zvariant::{OwnedObjectPath, OwnedValue as OwnedVariant, Value as Variant};

        let sni = zbus::Proxy::new(
            &self.conn,
            item.service.clone(),
            item.path.clone(),
            "org.kde.StatusNotifierItem",
        )
        .await
        .unwrap();
        let menu: OwnedObjectPath = sni.get_property("Menu").await.unwrap();
        let dbusmenu = zbus::Proxy::new(
            &self.conn,
            item.service.clone(),
            menu.to_string(),
            "com.canonical.dbusmenu",
        )
        .await
        .unwrap();
        type Layout = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);
        let (_revision, (_root, _props, children)): (u32, Layout) = dbusmenu
            .call("GetLayout", &(0i32, 1i32, vec!["label", "enabled"]))
            .await
            .unwrap();
        // a{sv} values arrive wrapped in a variant.
        fn unwrap<'a>(v: &'a Variant<'a>) -> &'a Variant<'a> {
            match v {
                Variant::Value(inner) => unwrap(inner),
                v => v,
            }
        }
        let items = children
            .iter()
            .filter_map(|child| {
                let Variant::Structure(item) = unwrap(child) else {
                    return None;
                };
                let id = match item.fields().first().map(unwrap) {
                    Some(Variant::I32(id)) => *id,
                    _ => return None,
                };
                let Variant::Dict(props) = item.fields().get(1)? else {
                    return None;
                };
                let prop = |name: &str| {
                    props
                        .iter()
                        .find(|(k, _)| matches!(k, Variant::Str(k) if k.as_str() == name))
                        .map(|(_, v)| unwrap(v).clone())
                };
                let label = match prop("label") {
                    Some(Variant::Str(label)) => label.to_string(),
                    _ => String::new(),
                };
                // Left out when it has its default, true.
                let enabled = !matches!(prop("enabled"), Some(Variant::Bool(false)));
                Some((id, label, enabled))
            })
            .collect();
        (dbusmenu, items)
    }

    /// Reads an item's current properties (they change as the app updates its icon).
    pub async fn read(&self, service: &str, path: &str) -> Option<TrayItem> {
        let proxy = zbus::Proxy::new(
            &self.conn,
            service.to_string(),
            path.to_string(),
            "org.kde.StatusNotifierItem",
        )
        .await
        .ok()?;
        let get = |name: &'static str| {
            let proxy = proxy.clone();
            async move { proxy.get_property::<String>(name).await.unwrap_or_default() }
        };
        Some(TrayItem {
            service: service.to_string(),
            path: path.to_string(),
            id: get("Id").await,
            title: get("Title").await,
            status: get("Status").await,
            icon_name: get("IconName").await,
            icon_theme_path: get("IconThemePath").await,
            icon_pixmap: proxy.get_property("IconPixmap").await.unwrap_or_default(),
            tool_tip: proxy
                .get_property::<(String, Vec<(i32, i32, Vec<u8>)>, String, String)>("ToolTip")
                .await
                .map(|(_, _, title, _)| title)
                .unwrap_or_default(),
        })
    }
}
