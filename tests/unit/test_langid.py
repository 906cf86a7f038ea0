"""Stop-word language identification."""

from __future__ import annotations

import pyarrow as pa
import pytest

from spark_jobs.transforms.langid import LANGUAGES, detect_language

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


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sentence_of_each_language_is_recognised(lang):
    assert detect_language(pa.array(SENTENCES[lang])).to_pylist() == [lang] * len(SENTENCES[lang])


def test_placeholders_and_markup_leftovers_do_not_change_the_answer():
    texts = [
        "Hi [PERSON], your refund to [CREDIT_CARD] was issued; reply to [EMAIL] if it is not there.",
        "Hola [PERSON], el reembolso a [IBAN] ya está hecho, escríbenos a [EMAIL] si no llega.",
        "Hallo [PERSON], die Erstattung an [IBAN] ist unterwegs, bitte melden Sie sich unter [PHONE].",
    ]
    assert detect_language(pa.array(texts)).to_pylist() == ["en", "es", "de"]


def test_short_or_signal_free_text_is_unknown():
    texts = [
        "ok",
        "Thanks!",
        "Merci",
        "[EMAIL] [PHONE]",
        "RTX-4090 4K 120Hz",
        "ORD-0012345 2026-11-22",
        "",
        None,
    ]
    assert detect_language(pa.array(texts, pa.string())).to_pylist() == ["unknown"] * len(texts)


def test_short_support_messages_still_get_a_language_when_two_function_words_agree():
    texts = [
        "Is the order shipped?",
        "Wo ist meine Bestellung?",
        "Où est ma commande ?",
        "Dov'è il mio ordine?",
    ]
    assert detect_language(pa.array(texts)).to_pylist() == ["en", "de", "fr", "it"]


def test_evenly_mixed_text_is_unknown_and_a_dominant_language_wins():
    mixed = "Thank you, it works. Gracias, funciona muy bien."
    mostly_french = "Merci pour votre aide, le colis est arrivé et tout fonctionne très bien. Thanks!"
    assert detect_language(pa.array([mixed, mostly_french])).to_pylist() == ["unknown", "fr"]
