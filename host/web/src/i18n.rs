//! Every text of the admin, in English and Slovenian.
//!
//! One macro line holds a text in both languages, so a text cannot exist in one and
//! be missing in the other: the compiler refuses it.

use tovor_domain::company::DocumentLanguage;
use tovor_domain::mapping::HostStatus;

macro_rules! texts {
    ($($key:ident: $en:literal, $sl:literal;)*) => {
        /// The admin's texts in one language.
        pub struct Texts {
            $(pub $key: &'static str,)*
        }

        impl std::fmt::Debug for Texts {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(if std::ptr::eq(self, &EN) { "Texts(en)" } else { "Texts(sl)" })
            }
        }

        pub static EN: Texts = Texts { $($key: $en,)* };
        pub static SL: Texts = Texts { $($key: $sl,)* };

        #[cfg(test)]
        pub(crate) fn every_text() -> Vec<(&'static str, &'static str, &'static str)> {
            vec![$((stringify!($key), $en, $sl),)*]
        }
    };
}

texts! {
    product: "tovor", "tovor";
    lang_code: "en", "sl";
    language_name: "English", "Slovenščina";
    other_language: "Slovenščina", "English";
    skip_to_content: "Skip to content", "Na vsebino";
    sign_in: "Sign in", "Prijava";
    sign_in_title: "Sign in to tovor", "Prijava v tovor";
    sign_out: "Sign out", "Odjava";
    email: "E-mail", "E-pošta";
    password: "Password", "Geslo";
    name: "Name", "Ime";
    wrong_credentials: "The e-mail address or the password is wrong.", "E-poštni naslov ali geslo ni pravilno.";
    too_many_attempts: "Too many sign-in attempts. Try again in a minute.", "Preveč poskusov prijave. Poskusite znova čez minuto.";
    first_time: "First time here? Create the first account with the admin token the service printed when it started.", "Prvič tukaj? Ustvarite prvi račun z administratorskim žetonom, ki ga je storitev izpisala ob zagonu.";
    setup_title: "Create the first account", "Ustvarite prvi račun";
    admin_token: "Admin token", "Administratorski žeton";
    wrong_admin_token: "That is not the admin token.", "To ni administratorski žeton.";
    setup_done_already: "Accounts exist already: sign in, or ask the operator.", "Računi že obstajajo: prijavite se ali vprašajte upravljavca.";
    company_name: "Company", "Podjetje";
    new_company_name: "Name of a new company (leave empty to join the existing ones)", "Ime novega podjetja (pustite prazno, da se pridružite obstoječim)";
    create_account: "Create account", "Ustvari račun";
    choose_company: "Choose a company", "Izberite podjetje";
    no_companies: "You do not work in any company yet. Ask the operator or an owner to add you.", "Niste še v nobenem podjetju. Prosite upravljavca ali lastnika, da vas doda.";
    dashboard: "Dashboard", "Pregled";
    orders: "Orders", "Naročila";
    order: "Order", "Naročilo";
    documents: "Documents", "Dokumenti";
    stock: "Items and stock", "Artikli in zaloga";
    shops: "E-stores", "E-trgovine";
    shipping: "Shipping", "Pošiljanje";
    deliveries: "Deliveries", "Dostave";
    people: "People and tokens", "Osebe in žetoni";
    plugins: "Plugins", "Vtičniki";
    companies: "Companies", "Podjetja";
    orders_today: "Orders today", "Naročila danes";
    deliveries_waiting: "Deliveries waiting", "Dostave v čakanju";
    deliveries_failed: "Deliveries failed", "Neuspele dostave";
    shops_with_errors: "E-stores with sync errors", "E-trgovine z napakami usklajevanja";
    pushes_failing: "Stock pushes failing", "Neuspeli prenosi zaloge";
    shipments_attention: "Shipments needing attention", "Pošiljke, ki zahtevajo pozornost";
    all_well: "Nothing needs you right now.", "Trenutno nič ne potrebuje vaše pozornosti.";
    latest_orders: "Latest orders", "Zadnja naročila";
    number: "Number", "Številka";
    shop: "E-store", "E-trgovina";
    shop_number: "Shop's number", "Številka v trgovini";
    buyer: "Buyer", "Kupec";
    status: "Status", "Stanje";
    total: "Total", "Skupaj";
    placed: "Placed", "Oddano";
    any: "Any", "Vse";
    from_date: "From", "Od";
    to_date: "To", "Do";
    search: "Search", "Iskanje";
    search_hint: "Number, name, e-mail or town", "Številka, ime, e-pošta ali kraj";
    filter: "Filter", "Filtriraj";
    next_page: "Older orders", "Starejša naročila";
    first_page: "Newest orders", "Najnovejša naročila";
    no_orders: "No orders match.", "Nobeno naročilo ne ustreza.";
    new_orders_arrive: "New orders appear here as they arrive.", "Nova naročila se prikažejo tukaj, ko prispejo.";
    lines: "Lines", "Postavke";
    item: "Item", "Artikel";
    sku: "SKU", "Šifra";
    quantity: "Quantity", "Količina";
    delivered: "Delivered", "Dobavljeno";
    unit_price: "Unit price", "Cena na enoto";
    billing_address: "Billing address", "Naslov za račun";
    shipping_address: "Delivery address", "Naslov za dostavo";
    payment: "Payment", "Plačilo";
    payment_method: "Payment method", "Način plačila";
    payment_status: "Payment status", "Stanje plačila";
    shop_status: "Status in the e-store", "Stanje v e-trgovini";
    history: "History", "Zgodovina";
    when: "When", "Kdaj";
    origin: "Origin", "Izvor";
    what: "What", "Kaj";
    changes: "Changes", "Spremembe";
    issue_invoice: "Issue invoice", "Izdaj račun";
    issue_delivery_note: "Issue delivery note", "Izdaj dobavnico";
    issue_for_quantities: "For these quantities", "Za te količine";
    issue_all: "Everything not yet on a document", "Vse, kar še ni na dokumentu";
    issue_hint: "Leave the quantities as they are for everything not yet on a document, or change them.", "Pustite količine, kot so, za vse, kar še ni na dokumentu, ali jih spremenite.";
    kind: "Kind", "Vrsta";
    invoice: "Invoice", "Račun";
    delivery_note: "Delivery note", "Dobavnica";
    credit_note: "Credit note", "Dobropis";
    issued: "Issued", "Izdano";
    cancelled: "Cancelled", "Stornirano";
    reversal: "Reversal", "Storno";
    no_documents: "No documents yet.", "Še ni dokumentov.";
    shipments: "Shipments", "Pošiljke";
    no_shipments: "No shipments yet.", "Še ni pošiljk.";
    document_issued: "Issued", "Izdan";
    back: "Back", "Nazaj";
    save: "Save", "Shrani";
    yes: "Yes", "Da";
    no: "No", "Ne";
    status_new: "New", "Novo";
    status_processing: "Processing", "V obdelavi";
    status_on_hold: "On hold", "Na čakanju";
    status_completed: "Completed", "Zaključeno";
    status_cancelled: "Cancelled", "Preklicano";
    status_refunded: "Refunded", "Vračilo";
    not_found: "There is nothing here.", "Tukaj ni ničesar.";
    not_found_title: "Not found", "Ni najdeno";
    forbidden: "Your role does not allow this.", "Vaša vloga tega ne dovoli.";
    forbidden_title: "Not allowed", "Ni dovoljeno";
    expired_form: "The form had expired or did not come from this page. Open the page again and repeat.", "Obrazec je potekel ali ni bil poslan s te strani. Ponovno odprite stran in ponovite.";
    error_title: "Something went wrong", "Nekaj je šlo narobe";
    internal_error: "Something failed on our side. The service's log has the details.", "Pri nas je nekaj spodletelo. Podrobnosti so v dnevniku storitve.";
    refused: "Refused", "Zavrnjeno";
    read_only_note: "You can look, not change: your role is read-only.", "Lahko gledate, ne spreminjate: vaša vloga je samo za branje.";
    role: "Role", "Vloga";
    role_owner: "Owner", "Lastnik";
    role_staff: "Staff", "Zaposleni";
    role_read_only: "Read-only", "Samo branje";
    custom_platform: "Custom platform", "Lastna platforma";
    plugin: "Connector", "Povezovalnik";
    enabled: "Enabled", "Omogočeno";
    disabled: "Disabled", "Onemogočeno";
    webhooks: "Webhooks", "Spletni klici";
    webhooks_registered: "Registered automatically", "Samodejno prijavljeni";
    webhooks_manual: "Paste the URL in the shop", "URL prilepite v trgovino";
    webhooks_failed: "Registration failed", "Prijava ni uspela";
    webhooks_none: "None: polled", "Brez: redno preverjanje";
    last_sync: "Last sync", "Zadnja uskladitev";
    next_sync: "Next sync", "Naslednja uskladitev";
    sync_error: "Sync error", "Napaka usklajevanja";
    sync_now: "Sync now", "Uskladi zdaj";
    sync_started: "sync started", "usklajevanje se je začelo";
    history_import: "History import", "Uvoz zgodovine";
    history_requested: "Requested from", "Zahtevan od";
    history_running: "Importing from", "Uvaža se od";
    history_done: "Imported from", "Uvoženo od";
    history_failed: "Failed from", "Ni uspel od";
    pages: "pages", "strani";
    orders_lower: "orders", "naročil";
    no_shops: "No e-stores yet.", "Še ni e-trgovin.";
    payment_methods: "Payment methods", "Načini plačila";
    shop_method: "The e-store's method", "Način v e-trgovini";
    code: "Code", "Oznaka";
    maps_to: "Means", "Pomeni";
    choose: "Choose…", "Izberite …";
    unmapped: "Not mapped", "Ni preslikan";
    mapped: "Mapped", "Preslikan";
    orders_seen: "Orders", "Naročila";
    mapping_saved: "mapping saved", "preslikava shranjena";
    no_host_methods: "The company has no payment methods of its own yet; add them first.", "Podjetje še nima svojih načinov plačila; najprej jih dodajte.";
    no_methods: "No payment methods seen yet.", "Še ni videnih načinov plačila.";
    platform_list_failed: "The e-store's own list could not be read", "Seznama e-trgovine ni bilo mogoče prebrati";
    received: "Received", "Prejeto";
    topic: "Topic", "Tema";
    attempts: "Attempts", "Poskusi";
    error: "Error", "Napaka";
    body: "Body as received", "Vsebina, kot je prispela";
    retry: "Retry", "Poskusi znova";
    retry_queued: "The delivery is queued again.", "Dostava je ponovno v vrsti.";
    no_deliveries: "No webhook deliveries yet.", "Še ni dostav spletnih klicev.";
    actions: "Actions", "Dejanja";
    no_documents_match: "No documents.", "Ni dokumentov.";
    older_documents: "Older documents", "Starejši dokumenti";
    net: "Without VAT", "Brez DDV";
    vat: "VAT", "DDV";
    vat_rate: "VAT rate", "Stopnja DDV";
    base: "Base", "Osnova";
    discount: "Discount", "Popust";
    rounding: "Rounding", "Zaokrožitev";
    total_with_vat: "Total with VAT", "Skupaj z DDV";
    vat_recap: "VAT recap", "Rekapitulacija DDV";
    download_pdf: "Download PDF", "Prenesi PDF";
    pdf_with_prices: "PDF with prices", "PDF s cenami";
    einvoice_eslog: "e-SLOG 2.0", "e-SLOG 2.0";
    einvoice_ubl: "UBL (Peppol)", "UBL (Peppol)";
    einvoice: "e-invoice", "e-račun";
    cancel_document: "Cancel with a reversal", "Storniraj";
    cancel_confirm: "A numbered reversal is issued and its stock movements are undone.", "Izda se oštevilčen storno, premiki zaloge se razveljavijo.";
    make_credit_note: "Credit note", "Dobropis";
    credit_hint: "The quantities and amounts to credit; each line at most what the invoice carried.", "Količine in zneski za dobropis; pri vsaki postavki največ toliko, kot je na računu.";
    restock: "The goods came back to stock", "Blago je vrnjeno na zalogo";
    issue_credit_note: "Issue credit note", "Izdaj dobropis";
    send: "Send by e-mail", "Pošlji po e-pošti";
    send_to: "To (empty: the buyer)", "Za (prazno: kupec)";
    attach_einvoice: "Attach an e-invoice", "Priloži e-račun";
    none: "None", "Brez";
    send_queued: "Queued for sending to", "V vrsti za pošiljanje na";
    sends: "Sent by e-mail", "Poslano po e-pošti";
    document: "Document", "Dokument";
    warehouse: "Warehouse", "Skladišče";
    linked_products: "The shops' products", "Izdelki v trgovinah";
    on_hand: "On hand", "Na zalogi";
    reserved: "Reserved", "Rezervirano";
    available: "Available", "Na voljo";
    no_stock: "No items yet: they are added as orders arrive, or through the API.", "Še ni artiklov: dodajo se, ko prispejo naročila, ali prek API-ja.";
    receive_goods: "Goods received", "Prevzem blaga";
    receipt: "Receipt", "Prevzem";
    adjustment: "Count correction (either sign)", "Popravek po inventuri (lahko negativen)";
    note_field: "Note", "Opomba";
    record: "Record", "Zabeleži";
    received_stock: "Recorded", "Zabeleženo";
    on_hand_now: "on hand now", "zdaj na zalogi";
    unlinked_items: "Items a shop was not told about", "Artikli, o katerih trgovina ni obveščena";
    unlinked_hint: "These items have no link to a product of the shop, so their stock is not sent there. Link the shop's products to items by SKU, or link them through the API.", "Ti artikli nimajo povezave z izdelkom trgovine, zato se njihova zaloga tja ne pošilja. Povežite izdelke trgovine z artikli po šifri ali prek API-ja.";
    refused_pushes: "Refused by the shop", "Trgovina je zavrnila";
    link_by_sku: "Link products by SKU", "Poveži izdelke po šifri";
    linked_by_sku: "Linked by SKU", "Povezano po šifri";
    linked: "linked", "povezanih";
    unmatched: "without a matching item", "brez ustreznega artikla";
    person_added: "can now work in the company.", "lahko zdaj dela v podjetju.";
    keep_one_owner: "You cannot take away your own ownership; another owner can.", "Lastništva ne morete odvzeti sebi; lahko ga drug lastnik.";
    role_changed: "The role is changed.", "Vloga je spremenjena.";
    person_removed: "The person no longer works in the company.", "Oseba ne dela več v podjetju.";
    token_revoked: "The token is revoked: it works nowhere from now on.", "Žeton je preklican: od zdaj ne deluje nikjer.";
    company_needs_name: "A company needs a name.", "Podjetje potrebuje ime.";
    company_created: "created; you are its owner.", "ustvarjeno; vi ste lastnik.";
    plugin_reloaded: "reloaded", "ponovno naložen";
    plugin_installed: "installed", "nameščen";
    plugin_files_missing: "Choose both files: plugin.toml and plugin.wasm.", "Izberite obe datoteki: plugin.toml in plugin.wasm.";
    add_person: "Add a person", "Dodaj osebo";
    password_for_new: "Password (only for someone new; at least 10 characters)", "Geslo (samo za novo osebo; vsaj 10 znakov)";
    add: "Add", "Dodaj";
    change: "Change", "Spremeni";
    remove: "Remove", "Odstrani";
    you: "you", "vi";
    api_tokens: "API tokens", "API-žetoni";
    api_tokens_hint: "For programs that use the API. A token is shown once, when it is made.", "Za programe, ki uporabljajo API. Žeton je prikazan enkrat, ko je ustvarjen.";
    token_name: "What it is for", "Za kaj je";
    create_token: "Create token", "Ustvari žeton";
    new_token_once: "The new token. Copy it now: it is not shown again.", "Novi žeton. Kopirajte ga zdaj: ne bo več prikazan.";
    copy: "Copy", "Kopiraj";
    prefix: "Starts with", "Začne se z";
    created: "Created", "Ustvarjeno";
    revoke: "Revoke", "Prekliči";
    revoked: "Revoked", "Preklican";
    new_company: "New company", "Novo podjetje";
    create_company: "Create company", "Ustvari podjetje";
    add_to_company: "Put a person into a company", "Dodaj osebo v podjetje";
    open: "Open", "Odpri";
    version: "Version", "Različica";
    contract: "Contract", "Pogodba";
    capabilities: "Capabilities", "Zmožnosti";
    reload: "Reload", "Ponovno naloži";
    upload_plugin: "Install or replace a plugin", "Namesti ali zamenjaj vtičnik";
    manifest_file: "plugin.toml", "plugin.toml";
    wasm_file: "plugin.wasm", "plugin.wasm";
    install: "Install", "Namesti";
    load_errors: "Plugins that did not load", "Vtičniki, ki se niso naložili";
    folder: "Folder", "Mapa";
    no_plugins: "No plugins are loaded.", "Ni naloženih vtičnikov.";
    add_shop: "Add e-store", "Dodaj e-trgovino";
    choose_connector: "Which platform is the e-store on?", "Na kateri platformi je e-trgovina?";
    connector_fields: "Connection", "Povezava";
    secret_kept: "Set; leave empty to keep it", "Nastavljeno; pustite prazno, da ostane";
    shop_settings: "How it works with the books", "Kako deluje s knjigovodstvom";
    shop_name: "Name", "Ime";
    update_existing: "Changed orders update imported ones", "Spremenjena naročila posodobijo uvožena";
    poll_minutes: "Minutes between syncs (without webhooks)", "Minute med uskladitvami (brez spletnih klicev)";
    import_from: "Import orders placed from", "Uvozi naročila, oddana od";
    auto_invoice: "Invoices", "Računi";
    auto_invoice_off: "By hand", "Ročno";
    auto_invoice_paid: "Automatically when paid", "Samodejno ob plačilu";
    auto_invoice_processing: "Automatically when processing", "Samodejno ob obdelavi";
    auto_invoice_completed: "Automatically when completed", "Samodejno ob zaključku";
    credit_notes_policy: "Refunds from the e-store", "Vračila iz e-trgovine";
    credit_notes_offer: "Offered as credit notes", "Ponujena kot dobropisi";
    credit_notes_auto: "Credit notes issued automatically", "Dobropisi izdani samodejno";
    stock_mode: "Stock the e-store shows", "Zaloga, ki jo kaže e-trgovina";
    stock_mode_available: "Available (on hand minus open orders)", "Na voljo (zaloga minus odprta naročila)";
    stock_mode_on_hand: "On hand", "Na zalogi";
    stock_document: "Document that moves stock", "Dokument, ki premakne zalogo";
    connection_ok: "Connection checked", "Povezava preverjena";
    webhooks_state: "Webhooks", "Spletni klici";
    webhooks_registered_long: "Registered in the e-store automatically.", "Samodejno prijavljeni v e-trgovini.";
    webhooks_paste: "Add this address as a webhook in the e-store's settings:", "To naslov dodajte kot spletni klic v nastavitvah e-trgovine:";
    polled_daily: "also reconciled once a day", "poleg tega uskladitev enkrat na dan";
    polled_every: "synced every", "uskladitev vsakih";
    saved: "Saved.", "Shranjeno.";
    disable_shop: "Disable", "Onemogoči";
    enable_shop: "Enable", "Omogoči";
    shop_enabled: "The e-store is enabled again.", "E-trgovina je znova omogočena.";
    shop_disabled: "The e-store is disabled: no syncs, no stock, webhooks refused.", "E-trgovina je onemogočena: brez uskladitev, brez zaloge, spletni klici zavrnjeni.";
    history_needs_date: "Choose the date to import from.", "Izberite datum, od katerega se uvaža.";
    history_started: "The history import has started; its progress shows in the list.", "Uvoz zgodovine se je začel; napredek je viden na seznamu.";
    import_history: "Import history from", "Uvozi zgodovino od";
    start: "Start", "Začni";
    carriers: "Carrier connections", "Povezave s prevozniki";
    add_carrier: "Add carrier", "Dodaj prevoznika";
    carrier_added: "The carrier connection is added.", "Povezava s prevoznikom je dodana.";
    no_carriers: "No carrier connections yet.", "Še ni povezav s prevozniki.";
    ship_orders: "Ship orders", "Pošlji naročila";
    ship_hint: "Tick the orders, choose the carrier and the parcels. Cash on delivery follows the order's payment method unless you say otherwise.", "Označite naročila, izberite prevoznika in pakete. Odkupnina sledi načinu plačila naročila, razen če določite drugače.";
    no_open_orders: "No open orders to ship.", "Ni odprtih naročil za pošiljanje.";
    carrier: "Carrier", "Prevoznik";
    parcels: "Parcels", "Paketi";
    weight_grams: "Weight of a parcel (g)", "Teža paketa (g)";
    cod: "Cash on delivery", "Odkupnina";
    cod_auto: "From the payment method", "Po načinu plačila";
    cod_on: "Always", "Vedno";
    cod_off: "Never", "Nikoli";
    create_shipments: "Create shipments", "Ustvari pošiljke";
    choose_orders: "Tick at least one order.", "Označite vsaj eno naročilo.";
    choose_shipments: "Tick at least one shipment.", "Označite vsaj eno pošiljko.";
    shipments_created: "Shipments", "Pošiljke";
    shipment: "Shipment", "Pošiljka";
    reference: "Reference", "Sklic";
    tracking: "Tracking", "Sledenje";
    pickup_point: "Pickup point", "Prevzemno mesto";
    label: "Label", "Nalepka";
    print_labels: "Print labels (one PDF)", "Natisni nalepke (en PDF)";
    sheet: "Paper", "Papir";
    sheet_as_drawn: "As the carrier drew them", "Kot jih je narisal prevoznik";
    sheet_a4_4up: "Four to an A4 sheet", "Štiri na list A4";
    state: "State", "Stanje";
    recipient: "Recipient", "Prejemnik";
    timeline: "Tracking timeline", "Potek sledenja";
    no_events: "No tracking events yet.", "Še ni dogodkov sledenja.";
    location: "Place", "Kraj";
    track_now: "Track now", "Sledi zdaj";
    tracked: "Tracking asked for.", "Sledenje zahtevano.";
    cancel_shipment: "Cancel shipment", "Prekliči pošiljko";
    shipment_cancelled: "The shipment is cancelled.", "Pošiljka je preklicana.";
    resolve_title: "Unknown outcome: settle it", "Neznan izid: razrešite";
    resolve_hint: "The carrier's answer was lost. Look in the carrier's own system: give the shipment's id and tracking numbers if it is there, or tick that it is not (it is then created again).", "Odgovor prevoznika se je izgubil. Poglejte v sistem prevoznika: vpišite številko pošiljke in sledilne številke, če je tam, ali označite, da je ni (takrat se ustvari znova).";
    carrier_shipment_id: "The carrier's shipment id", "Številka pošiljke pri prevozniku";
    tracking_numbers: "Tracking numbers", "Sledilne številke";
    not_created: "It is not at the carrier: create it again", "Pri prevozniku je ni: ustvari znova";
    resolve: "Settle", "Razreši";
    resolved: "Settled.", "Razrešeno.";
    shop_told: "E-store told", "E-trgovina obveščena";
    sender: "Sender on labels", "Pošiljatelj na nalepkah";
    street: "Street", "Ulica";
    house_number: "House number", "Hišna številka";
    postal_code: "Postal code", "Poštna številka";
    city: "Town", "Kraj";
    country: "Country (two letters, e.g. SI)", "Država (dve črki, npr. SI)";
    phone: "Phone", "Telefon";
    default_weight: "Parcel weight when none is given (g)", "Teža paketa, kadar ni podana (g)";
    tell_shop: "Tell the e-store the tracking number", "Sporoči e-trgovini sledilno številko";
    tell_shop_created: "When the shipment is created", "Ko je pošiljka ustvarjena";
    tell_shop_delivered: "When it is delivered", "Ko je dostavljena";
    tell_shop_off: "Never", "Nikoli";
    back_to_shipping: "Back to shipping", "Nazaj na pošiljanje";
    reset_password: "Set someone's password", "Nastavi geslo osebi";
    new_password: "New password (at least 10 characters)", "Novo geslo (vsaj 10 znakov)";
    set_password: "Set password", "Nastavi geslo";
    password_set: "password set; signed out everywhere", "geslo nastavljeno; odjavljen povsod";
    no_such_person: "nobody signs in with this address", "s tem naslovom se ne prijavlja nihče";
}

impl Texts {
    /// The texts a person reads in `language`.
    pub fn of(language: DocumentLanguage) -> &'static Texts {
        match language {
            DocumentLanguage::En => &EN,
            DocumentLanguage::Sl => &SL,
        }
    }

    pub fn status(&self, status: HostStatus) -> &'static str {
        match status {
            HostStatus::New => self.status_new,
            HostStatus::Processing => self.status_processing,
            HostStatus::OnHold => self.status_on_hold,
            HostStatus::Completed => self.status_completed,
            HostStatus::Cancelled => self.status_cancelled,
            HostStatus::Refunded => self.status_refunded,
        }
    }

    pub fn role(&self, role: tovor_domain::access::Role) -> &'static str {
        use tovor_domain::access::Role;
        match role {
            Role::Owner => self.role_owner,
            Role::Staff => self.role_staff,
            Role::ReadOnly => self.role_read_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_written_in_both_languages() {
        for (key, en, sl) in every_text() {
            assert!(!en.trim().is_empty(), "{key} has no English");
            assert!(!sl.trim().is_empty(), "{key} has no Slovenian");
        }
    }

    #[test]
    fn slovenian_is_not_english_left_untranslated() {
        // Names and symbols are the same in both; everything else must differ.
        let same_on_purpose = [
            "product",
            "einvoice_eslog",
            "einvoice_ubl",
            "manifest_file",
            "wasm_file",
        ];
        for (key, en, sl) in every_text() {
            if !same_on_purpose.contains(&key) {
                assert_ne!(en, sl, "{key} is not translated");
            }
        }
    }
}
