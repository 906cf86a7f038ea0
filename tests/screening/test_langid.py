"""Language identification (lingua) combined with the declared language, on text nobody here generated."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from faker import Faker

from llmops.config import ConfigError, load_settings
from llmops.screening.langid import UNKNOWN, LanguagePolicy, declared_codes, detect_language

SHORT_REVIEWS_EN = (Path(__file__).parents[1] / "fixtures" / "langid" / "short_reviews_en.txt").read_text().splitlines()
KEPT = ("en", UNKNOWN)  # what silver keeps with the default settings (languages [en], unknown kept)

SENTENCES = {
    "en": [
        "The screen flickers whenever I open the settings menu.",
        "I would like to return the keyboard because two keys are stuck.",
        "Could you send me an invoice for my last purchase?",
        "We never received the package even though it says delivered.",
        "Is there any way to change the delivery address after the order was placed?",
        "The battery drains in a few hours, is this normal?",
    ],
    "es": [
        "La pantalla parpadea cada vez que abro el menú de configuración.",
        "Quisiera devolver el teclado porque dos teclas están atascadas.",
        "¿Me pueden enviar una factura de mi última compra?",
        "Nunca recibimos el paquete aunque dice que fue entregado.",
        "¿Hay alguna forma de cambiar la dirección de entrega después de hacer el pedido?",
        "La batería se agota en pocas horas, ¿es normal?",
    ],
    "pt": [
        "A tela pisca sempre que eu abro o menu de configurações.",
        "Gostaria de devolver o teclado porque duas teclas estão presas.",
        "Vocês podem me enviar uma nota fiscal da minha última compra?",
        "Nunca recebemos o pacote, embora diga que foi entregue.",
        "Existe alguma forma de mudar o endereço de entrega depois que o pedido foi feito?",
        "A bateria acaba em poucas horas, isso é normal?",
    ],
    "fr": [
        "L'écran clignote chaque fois que j'ouvre le menu des paramètres.",
        "Je voudrais retourner le clavier car deux touches sont bloquées.",
        "Pouvez-vous m'envoyer une facture pour mon dernier achat ?",
        "Nous n'avons jamais reçu le colis alors qu'il est indiqué comme livré.",
        "Est-il possible de changer l'adresse de livraison après la commande ?",
        "La batterie se vide en quelques heures, est-ce normal ?",
    ],
    "de": [
        "Der Bildschirm flackert jedes Mal, wenn ich das Einstellungsmenü öffne.",
        "Ich möchte die Tastatur zurückgeben, weil zwei Tasten klemmen.",
        "Können Sie mir eine Rechnung für meinen letzten Einkauf schicken?",
        "Wir haben das Paket nie erhalten, obwohl es als zugestellt angezeigt wird.",
        "Kann man die Lieferadresse ändern, nachdem die Bestellung aufgegeben wurde?",
        "Der Akku ist nach wenigen Stunden leer, ist das normal?",
    ],
    "it": [
        "Lo schermo sfarfalla ogni volta che apro il menu delle impostazioni.",
        "Vorrei restituire la tastiera perché due tasti sono bloccati.",
        "Potete inviarmi una fattura per il mio ultimo acquisto?",
        "Non abbiamo mai ricevuto il pacco anche se risulta consegnato.",
        "È possibile cambiare l'indirizzo di consegna dopo aver effettuato l'ordine?",
        "La batteria si scarica in poche ore, è normale?",
    ],
    "nl": [
        "Het scherm flikkert elke keer als ik het instellingenmenu open.",
        "Ik wil het toetsenbord terugsturen omdat twee toetsen vastzitten.",
        "Kunt u mij een factuur sturen voor mijn laatste aankoop?",
        "We hebben het pakket nooit ontvangen, hoewel er staat dat het bezorgd is.",
        "Is het mogelijk om het bezorgadres te wijzigen nadat de bestelling is geplaatst?",
        "De batterij is binnen een paar uur leeg, is dat normaal?",
    ],
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_every_sentence_of_each_language_is_recognised(lang):
    assert detect_language(pa.array(SENTENCES[lang])).to_pylist() == [lang] * len(SENTENCES[lang])


def test_placeholders_carry_no_language():
    texts = [
        "Hi [PERSON], your refund to [CREDIT_CARD] was issued; reply to [EMAIL] if it is not there.",
        "Hola [PERSON], el reembolso a [IBAN] ya está hecho, escríbenos a [EMAIL] si no llega.",
        "Hallo [PERSON], die Erstattung an [IBAN] ist unterwegs, bitte melden Sie sich unter [PHONE].",
        "[EMAIL] [PHONE] [CREDIT_CARD] [IP_ADDRESS]",
    ]
    assert detect_language(pa.array(texts)).to_pylist() == ["en", "es", "de", UNKNOWN]


def test_text_too_short_or_without_letters_is_unknown_or_its_declared_language():
    texts = ["ok", "Thanks!", "Merci", "RTX-4090 4K 120Hz", "ORD-0012345 2026-11-22", "", None]
    assert detect_language(pa.array(texts, pa.string())).to_pylist() == [UNKNOWN] * len(texts)
    declared = pa.array(["en", "EN-us", "fr_FR", "xx", None, "de", "pt"])
    assert detect_language(pa.array(texts, pa.string()), declared).to_pylist() == [
        "en", "en", "fr", UNKNOWN, UNKNOWN, "de", "pt",
    ]  # fmt: skip


def test_declared_tags_are_normalised_to_candidate_codes():
    got = declared_codes(pa.array(["en", " EN-GB ", "de_AT", "english", "zz", None]), LanguagePolicy().candidates)
    assert got == ["en", "en", "de", None, None, None]


def test_a_confident_detection_overrides_a_wrong_declaration():
    german = "Der Akku hält nur zwei Stunden, obwohl in der Beschreibung von zehn Stunden die Rede ist."
    assert detect_language(pa.array([german]), pa.array(["en"])).to_pylist() == ["de"]


def test_configured_languages_outside_the_common_set_are_detected():
    polish = "Zamówienie dotarło uszkodzone, proszę o zwrot pieniędzy albo wymianę na nowy egzemplarz."
    policy = LanguagePolicy(languages=("en", "pl"))
    assert detect_language(pa.array([polish]), None, policy).to_pylist() == ["pl"]


# ------------------------------------------------------------------------------- an independent labelled set


def _faker_sentences(locale: str, n: int = 100) -> list[str]:
    fake = Faker(locale)
    fake.seed_instance(3)
    return [fake.sentence(nb_words=4 + i % 8) for i in range(n)]


def test_short_english_reviews_are_kept_and_named_english_when_declared():
    undeclared = detect_language(pa.array(SHORT_REVIEWS_EN)).to_pylist()
    assert all(lang in KEPT for lang in undeclared), [
        t for t, g in zip(SHORT_REVIEWS_EN, undeclared, strict=True) if g not in KEPT
    ]
    assert sum(lang == "en" for lang in undeclared) / len(undeclared) >= 0.7
    declared = detect_language(pa.array(SHORT_REVIEWS_EN), pa.array(["en"] * len(SHORT_REVIEWS_EN))).to_pylist()
    assert declared == ["en"] * len(SHORT_REVIEWS_EN)


@pytest.mark.parametrize(
    ("lang", "locale"),
    [
        ("de", "de_DE"),
        ("fr", "fr_FR"),
        ("es", "es_ES"),
        ("it", "it_IT"),
        ("nl", "nl_NL"),
        ("ru", "ru_RU"),
        ("ja", "ja_JP"),
    ],
)
def test_other_languages_from_faker_are_named_and_not_kept_as_english(lang, locale):
    got = detect_language(pa.array(_faker_sentences(locale))).to_pylist()
    assert sum(g == lang for g in got) / len(got) >= 0.9
    assert sum(g == "en" for g in got) / len(got) <= 0.03


def test_settings_accept_only_languages_the_identifier_supports():
    assert load_settings("local", environ={"LLMOPS__DATA__LANGUAGES": "[EN, pl]"}).data.languages == ["en", "pl"]
    for bad in ("[en, xx]", "[]", "[english]"):
        with pytest.raises(ConfigError, match="data.languages"):
            load_settings("local", environ={"LLMOPS__DATA__LANGUAGES": bad})
    with pytest.raises(ConfigError, match="max_language_drop_share"):
        load_settings("local", environ={"LLMOPS__DATA__MAX_LANGUAGE_DROP_SHARE": "1.5"})
