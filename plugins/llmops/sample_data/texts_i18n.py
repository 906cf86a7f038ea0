"""Spanish, German and French tickets and reviews (several full sentences each, as real customers write).

Slots: product order days n hours carrier device date_num price.
"""

from __future__ import annotations

from llmops.sample_data.grammar import templates

LANGUAGES = ("es", "de", "fr")

TICKET = {
    "es": {
        "subject": templates(
            "[Problema con|Consulta sobre] [mi pedido {order}|el producto]",
            "[Pedido|Paquete] [no recibido|retrasado|dañado]",
            "Devolución del pedido {order}",
        ),
        "customer": templates(
            "[Hola|Buenos días|Buenas tardes], [compré|pedí] el {product} [hace {days} días|el {date_num}] y "
            "[todavía no ha llegado|llegó con la pantalla rota|no se enciende|la batería dura muy poco].",
            "El pedido {order} [sigue|está] [sin enviar|en tránsito|retenido en aduanas] y nadie me "
            "[contesta|da "
            "una respuesta] [desde hace {days} días|desde el {date_num}].",
            "[Cuando|Cada vez que] intento [conectarlo|emparejarlo] con mi {device}, [se desconecta|no "
            "aparece|da "
            "un error] [cada pocos minutos|todo el tiempo|al final del proceso].",
            "Ya [probé|intenté] [reiniciarlo|con otro cable|restablecer los valores de fábrica][ dos veces| "
            "varias "
            "veces|] pero [no funcionó|sigue igual|el problema vuelve].",
            "Es un regalo para mi [hermana|padre|hijo|madre] y lo necesito [antes del fin de semana|para el "
            "viernes|cuanto antes].",
            "¿[Podrían|Pueden] [enviarme un reemplazo|devolverme el dinero|decirme qué tengo que hacer] [lo "
            "antes "
            "posible|esta semana|por favor]?",
            "[Muchas gracias|Gracias] [de antemano|por su ayuda|por la atención]. [Un saludo|Saludos cordiales].",
        ),
        "agent": templates(
            "[Hola|Buenos días], [gracias por escribirnos|sentimos mucho las molestias|lamentamos el problema].",
            "[Hemos enviado|Ya enviamos] un [reemplazo|producto nuevo] [con {carrier}|hoy mismo] y [le "
            "llegará|debería llegar] en {days} días.",
            "[Hemos abierto|Abrimos] una [incidencia|reclamación] con {carrier} y le "
            "[escribiremos|avisaremos] "
            "en {hours} horas.",
            "Por favor, [mantenga pulsado|pulse] el botón de encendido durante {n} segundos [y vuelva a "
            "emparejarlo|para reiniciarlo].",
            "Si el problema [continúa|sigue], le [enviamos|mandamos] una etiqueta de devolución gratuita.",
            "[Un saludo|Atentamente], el equipo de atención al cliente.",
        ),
        "resolution": templates(
            "[Reemplazo enviado|Reembolso realizado|Incidencia resuelta] [con {carrier}|el {date_num}]."
        ),
    },
    "de": {
        "subject": templates(
            "[Problem mit|Frage zu] [meiner Bestellung {order}|dem Gerät]",
            "[Bestellung|Paket] [nicht angekommen|verspätet|beschädigt]",
            "Rücksendung für {order}",
        ),
        "customer": templates(
            "[Hallo|Guten Tag|Sehr geehrte Damen und Herren], ich habe [vor {days} Tagen|am {date_num}] den "
            "{product} [bestellt|gekauft] und [er ist immer noch nicht angekommen|das Display ist "
            "gesprungen|er "
            "lässt sich nicht einschalten|der Akku hält nur kurz].",
            "Die Bestellung {order} [ist seit|hängt seit] [{days} Tagen|dem {date_num}] [im Versand|beim "
            "Zoll|"
            "im Lager] und niemand [antwortet mir|meldet sich].",
            "[Wenn|Jedes Mal wenn] ich [das Gerät|ihn] mit meinem {device} [verbinden|koppeln] will, [bricht "
            "die "
            "Verbindung ab|erscheint er nicht|kommt eine Fehlermeldung] [alle paar Minuten|ständig|am Ende].",
            "Ich habe [schon|bereits] [einen Neustart|ein anderes Kabel|das Zurücksetzen auf "
            "Werkseinstellungen]"
            "[ zweimal| mehrmals|] versucht, aber [es hat nicht geholfen|nichts hat sich geändert].",
            "Es ist ein Geschenk für meine [Schwester|Mutter|Tochter] und ich brauche es [vor dem "
            "Wochenende|bis "
            "Freitag|so schnell wie möglich].",
            "[Können|Könnten] Sie mir [bitte|schnell] [ein Ersatzgerät schicken|das Geld erstatten|sagen, "
            "was "
            "ich tun soll]?",
            "[Vielen Dank|Danke] [im Voraus|für Ihre Hilfe]. [Mit freundlichen Grüßen|Viele Grüße].",
        ),
        "agent": templates(
            "[Hallo|Guten Tag], [vielen Dank für Ihre Nachricht|es tut uns sehr leid|entschuldigen Sie bitte "
            "die "
            "Unannehmlichkeiten].",
            "Wir haben [heute|soeben] ein [Ersatzgerät|neues Gerät] [mit {carrier}|per Express] verschickt, "
            "es "
            "[kommt|sollte] in {days} Tagen [an|ankommen].",
            "Wir haben [einen Nachforschungsauftrag|eine Reklamation] bei {carrier} [eröffnet|gestellt] und "
            "melden uns innerhalb von {hours} Stunden.",
            "Bitte halten Sie die Einschalttaste {n} Sekunden [lang gedrückt|gedrückt] und [koppeln Sie das "
            "Gerät erneut|starten Sie es neu].",
            "Wenn das Problem [bleibt|weiterhin besteht], schicken wir Ihnen ein kostenloses Rücksendeetikett.",
            "[Mit freundlichen Grüßen|Viele Grüße], Ihr Kundenservice.",
        ),
        "resolution": templates(
            "[Ersatz verschickt|Erstattung veranlasst|Problem gelöst] [mit {carrier}|am {date_num}]."
        ),
    },
    "fr": {
        "subject": templates(
            "[Problème avec|Question sur] [ma commande {order}|le produit]",
            "[Commande|Colis] [non reçue|en retard|endommagée]",
            "Retour de la commande {order}",
        ),
        "customer": templates(
            "[Bonjour|Bonsoir|Madame, Monsieur], j'ai [commandé|acheté] le {product} [il y a {days} jours|le "
            "{date_num}] et [il n'est toujours pas arrivé|l'écran est fissuré|il ne s'allume pas|la batterie "
            "ne "
            "tient pas].",
            "La commande {order} est [bloquée|en transit|retenue à la douane] [depuis {days} jours|depuis le "
            "{date_num}] et personne ne me [répond|donne de nouvelles].",
            "[Quand|Chaque fois que] j'essaie de [le connecter|l'appairer] avec mon {device}, [la connexion "
            "se "
            "coupe|il n'apparaît pas|un message d'erreur s'affiche] [toutes les deux minutes|sans arrêt|à la "
            "fin].",
            "J'ai [déjà |]essayé [de le redémarrer|un autre câble|la réinitialisation d'usine][ deux fois|"
            " plusieurs fois|] mais [cela n'a rien changé|le problème revient].",
            "C'est un cadeau pour ma [sœur|mère|fille] et j'en ai besoin [avant le week-end|pour vendredi|le "
            "plus "
            "vite possible].",
            "Pouvez-vous [m'envoyer un produit de remplacement|me rembourser|me dire quoi faire] "
            "[rapidement|cette "
            "semaine|s'il vous plaît] ?",
            "[Merci beaucoup|Merci d'avance] pour votre aide. [Cordialement|Bien à vous].",
        ),
        "agent": templates(
            "[Bonjour|Bonsoir], [merci pour votre message|nous sommes désolés pour ce désagrément|nous vous "
            "prions de nous excuser].",
            "Nous avons [expédié|envoyé] un [produit de remplacement|nouvel appareil] [avec "
            "{carrier}|aujourd'hui] "
            "et il [arrivera|devrait arriver] dans {days} jours.",
            "Nous avons ouvert une [enquête|réclamation] auprès de {carrier} et nous reviendrons vers vous "
            "sous "
            "{hours} heures.",
            "Merci de [maintenir|garder] le bouton d'alimentation appuyé pendant {n} secondes [puis de "
            "l'appairer à nouveau|pour le redémarrer].",
            "Si le problème [persiste|continue], nous vous envoyons une étiquette de retour gratuite.",
            "[Cordialement|Bien à vous], le service client.",
        ),
        "resolution": templates(
            "[Remplacement expédié|Remboursement effectué|Problème résolu] [avec {carrier}|le {date_num}]."
        ),
    },
}

# Review bodies: sentence 0 opens, 1-5 are optional remarks (kept in order), 6 is the verdict.
REVIEW = {
    "es": {
        "title": {
            "positive": templates(
                "[Muy buena compra|Excelente producto|Lo recomiendo|Muy contento|Genial][| sin duda|]"
            ),
            "negative": templates("[Decepcionante|No lo recomiendo|Mala calidad|Dejó de funcionar|No vale la pena]"),
        },
        "body": {
            "positive": templates(
                "[Compré|Pedí|Me regalaron] el {product} [para el trabajo|para mi hijo|como regalo|para "
                "viajar|"
                "hace {days} días] y [estoy|estamos] [muy |bastante |]contentos con la compra.",
                "[El sonido es excelente|El diseño es muy bonito|El acabado es de muy buena calidad|Los "
                "materiales "
                "son muy buenos][ y se nota la calidad| para este precio|].",
                "[La batería dura {n} días|La conexión con mi {device} es muy estable|La pantalla se ve "
                "genial]"
                "[ sin problemas| en el día a día|].",
                "[El envío|El paquete] llegó en {days} días [y bien embalado|sin ningún problema|antes de lo "
                "previsto].",
                "La configuración con mi {device} fue [muy fácil|rápida|cuestión de minutos] y [funciona|va] "
                "[perfectamente|sin problemas].",
                "Por {price} [es una compra excelente|vale cada céntimo|no he encontrado nada mejor].",
                "[Lo recomiendo|Volvería a comprarlo|Cinco estrellas] sin [ninguna |]duda.",
            ),
            "negative": templates(
                "El {product} [dejó de funcionar|se rompió|empezó a fallar] [a los {days} días|después de "
                "una "
                "semana|al primer mes].",
                "[El sonido es malísimo|El acabado es muy malo|El plástico cruje al tocarlo|El diseño es incómodo].",
                "[La batería no dura ni {n} horas|La conexión con mi {device} se corta cada rato|La pantalla "
                "parpadea todo el tiempo].",
                "El servicio al cliente [no responde|tarda {days} días en contestar|no me da ninguna solución].",
                "[El envío|El paquete] tardó {days} días y [llegó abollado|la caja venía rota].",
                "Por {price} esperaba [mucho más|una calidad mejor|que durara más].",
                "No [lo recomiendo|vale lo que cuesta], [lo voy a devolver|ya pedí la devolución].",
            ),
        },
    },
    "de": {
        "title": {
            "positive": templates(
                "[Sehr guter Kauf|Tolles Produkt|Klare Empfehlung|Sehr zufrieden|Top][| für den Preis|]"
            ),
            "negative": templates(
                "[Enttäuschend|Nicht zu empfehlen|Schlechte Qualität|Nach kurzer Zeit defekt|Finger weg]"
            ),
        },
        "body": {
            "positive": templates(
                "Ich habe mir [vor {days} Tagen|letzten Monat|für die Arbeit|als Geschenk] {product} gekauft "
                "und "
                "bin [sehr |ziemlich |]zufrieden.",
                "[Der Klang|Die Verarbeitung|Das Design] ist [hervorragend|sehr gut|besser als erwartet] und "
                "[wirkt hochwertig|macht einen soliden Eindruck].",
                "[Der Akku hält problemlos {n} Tage|Die Verbindung mit meinem {device} ist stabil|Das "
                "Display ist "
                "schön hell][ im Alltag| ohne Probleme|].",
                "Die Lieferung hat nur {days} Tage gedauert[ und alles war gut verpackt| und kam pünktlich|].",
                "Die Einrichtung mit meinem {device} war [ganz einfach|schnell erledigt|in fünf Minuten "
                "fertig] und "
                "alles [läuft|funktioniert] [einwandfrei|ohne Probleme].",
                "Für {price} [ist das ein sehr guter Preis|bekommt man hier richtig viel|gibt es nichts Besseres].",
                "[Ich würde es wieder kaufen|Klare Kaufempfehlung|Fünf Sterne von mir][ ohne zu zögern|].",
            ),
            "negative": templates(
                "Mein {product} ist [nach {days} Tagen|nach einer Woche|schon im ersten Monat] [kaputt "
                "gegangen|"
                "ausgefallen].",
                "[Der Klang|Die Verarbeitung] ist [miserabel|sehr schlecht|eine Katastrophe] und [wirkt "
                "billig|"
                "knarzt bei jeder Bewegung].",
                "[Der Akku hält keine {n} Stunden|Die Verbindung mit meinem {device} bricht ständig ab|Das "
                "Display "
                "flackert dauernd].",
                "Der Kundendienst [antwortet nicht|braucht {days} Tage für eine Antwort|hilft überhaupt nicht].",
                "Die Lieferung hat {days} Tage gedauert und [der Karton war beschädigt|das Paket war eingedrückt].",
                "Für {price} habe ich [viel mehr|eine bessere Qualität|deutlich mehr] erwartet.",
                "[Ich kann es nicht empfehlen|Finger weg][ und schicke es zurück| und habe es schon zurückgeschickt|].",
            ),
        },
    },
    "fr": {
        "title": {
            "positive": templates(
                "[Très bon achat|Excellent produit|Je recommande|Très satisfait|Parfait][| pour le prix|]"
            ),
            "negative": templates("[Décevant|À éviter|Mauvaise qualité|Tombé en panne|Pas à la hauteur]"),
        },
        "body": {
            "positive": templates(
                "J'ai acheté le {product} [pour le travail|pour mon fils|comme cadeau|pour voyager|il y a "
                "{days} "
                "jours] et je suis [très |plutôt |]satisfait.",
                "[Le son est excellent|Le design est très réussi|La finition est impeccable|Les matériaux "
                "sont de "
                "bonne qualité][ pour ce prix| au quotidien|].",
                "[La batterie tient {n} jours|La connexion avec mon {device} est stable|L'écran est très "
                "lumineux]"
                "[ sans problème| même en voyage|].",
                "La livraison n'a pris que {days} jours[ et le colis était bien emballé| et tout était en "
                "parfait "
                "état|].",
                "L'installation avec mon {device} a été [très simple|rapide|réglée en cinq minutes] et tout "
                "[marche|fonctionne] [parfaitement|sans problème].",
                "Pour {price}, [c'est un excellent rapport qualité-prix|on ne trouve pas mieux|c'est une "
                "très bonne "
                "affaire].",
                "Je le [recommande|rachèterais] sans [aucune |]hésitation.",
            ),
            "negative": templates(
                "Le {product} est tombé en panne [au bout de {days} jours|après une semaine|dès le premier mois].",
                "[Le son est très décevant|La finition est bas de gamme|Le plastique craque au moindre "
                "contact|Le "
                "design est raté].",
                "[La batterie ne tient pas {n} heures|La connexion avec mon {device} coupe sans "
                "arrêt|L'écran "
                "scintille tout le temps].",
                "Le service client [ne répond pas|met {days} jours à répondre|ne propose aucune solution].",
                "La livraison a pris {days} jours et [le carton était abîmé|le colis était écrasé].",
                "Pour {price}, je m'attendais à [beaucoup mieux|une meilleure qualité|plus de fiabilité].",
                "Je ne le recommande pas[ et je vais le renvoyer| et j'ai déjà demandé un remboursement|].",
            ),
        },
    },
}
